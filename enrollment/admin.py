"""Django admin for students, classes, enrollments and fees.

Just over 600 lines, kept as one module: the admin's autodiscovery imports
enrollment.admin alone, so as a package its __init__ would have to import each part only
to register it; here each model of models.py has its admin once, in the same order.

An enrollment's status is never a form field here: it moves only through
enrollment.services.transitions.enrollment_change_status (the actions on the enrollment list), so
every change is checked against the transitions table and lands in the history.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accesslog.admin import StudentRecordAccessLogMixin
from accounts.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from enrollment.services.transitions import enrollment_change_status
from sers.text import TextBlockField, TextLineField

from .models import (
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    Fee,
    FeeChange,
    IdentityChange,
    PossibleDuplicate,
    Section,
    SectionRequest,
    StudentMerge,
    StudentProfile,
)

# The text boxes the admin makes from the models' text fields follow the rules of every
# other form and upload (sers.text): white space normalised, control characters refused.
# The admin's own entries for EmailField and URLField come first in a field's MRO.
TEXT_RULES = {
    models.CharField: {"form_class": TextLineField},
    models.TextField: {"form_class": TextBlockField},
}

# --- students -----------------------------------------------------------------------------


class IdentityChangeInline(ReadOnlyTabularInline):
    model = IdentityChange
    fk_name = "student"
    fields = ("created_at", "old_legal_name", "new_legal_name", "reason", "status", "decided_at")
    verbose_name_plural = _("legal name and birth date changes")

    @admin.display(description=_("before"))
    def old_legal_name(self, obj: IdentityChange) -> str:
        return obj.old_legal_name

    @admin.display(description=_("after"))
    def new_legal_name(self, obj: IdentityChange) -> str:
        return obj.new_legal_name


@admin.register(StudentProfile)
class StudentProfileAdmin(StudentRecordAccessLogMixin, admin.ModelAdmin):
    formfield_overrides = TEXT_RULES
    inlines = [IdentityChangeInline]
    list_display = (
        "sers_id",
        "legal_last_name",
        "legal_first_name",
        "high_school",
        "graduation_year",
    )
    list_display_links = ("sers_id", "legal_last_name")
    list_filter = ("graduation_year", "high_school__district__consortium")
    list_select_related = ("high_school",)
    search_fields = (
        "sers_id",
        "legal_last_name",
        "legal_first_name",
        "legal_middle_name",
        "user__email",
    )
    autocomplete_fields = ("high_school",)
    # The identity on the college transcript changes only through a recorded legal-name
    # change (IdentityChange), never by editing it here.
    readonly_fields = (
        "sers_id",
        "user",
        "legal_first_name",
        "legal_middle_name",
        "legal_last_name",
        "birth_date",
        "created_at",
        "updated_at",
    )
    show_full_result_count = False
    fieldsets = (
        (
            _("Identity (as on the college transcript)"),
            {
                "fields": (
                    "sers_id",
                    "user",
                    ("legal_first_name", "legal_middle_name", "legal_last_name"),
                    "birth_date",
                )
            },
        ),
        (_("School"), {"fields": ("high_school", "graduation_year")}),
        (_("Contact"), {"fields": ("phone", "language")}),
        (
            _("Demographics (optional, self-reported)"),
            {"fields": ("gender", "race_ethnicity"), "classes": ("collapse",)},
        ),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )

    def logged_student_ids(self, obj: StudentProfile) -> list[int]:
        return [obj.pk]

    def has_add_permission(self, request):
        # Students create their own accounts (sign-up checks for duplicate identities).
        return False


# --- classes ------------------------------------------------------------------------------


class SectionCompletedFilter(admin.SimpleListFilter):
    title = _("marked complete")
    parameter_name = "completed"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(completed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(completed_at__isnull=True)
        return queryset


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    formfield_overrides = TEXT_RULES
    list_display = (
        "course",
        "section_code",
        "high_school",
        "teacher",
        "academic_year",
        "term",
        "completed_at",
    )
    list_filter = ("academic_year", "term", SectionCompletedFilter, "articulation__consortium")
    list_select_related = (
        "articulation__high_school_course",
        "high_school",
        "teacher",
        "academic_year",
    )
    search_fields = (
        "articulation__agreement_number",
        "articulation__high_school_course__title",
        "high_school__name",
        "teacher__email",
        "teacher__last_name",
        "section_code",
    )
    autocomplete_fields = ("articulation", "teacher", "high_school", "completed_by")
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("articulation", "high_school", "teacher")}),
        (_("When"), {"fields": ("academic_year", "term", "section_code")}),
        (_("Completion"), {"fields": ("completed_at", "completed_by")}),
        (_("Record"), {"fields": ("created_at",)}),
    )

    @admin.display(description=_("course"), ordering="articulation__high_school_course__title")
    def course(self, obj: Section) -> str:
        return obj.articulation.high_school_course.title

    def get_queryset(self, request):
        # Also for the autocomplete boxes, whose labels show course, school and year.
        return super().get_queryset(request).select_related(*self.list_select_related)


# --- enrollments --------------------------------------------------------------------------


class EnrollmentActionForm(ActionForm):
    reason = TextLineField(
        label=_("Reason:"),
        required=False,
        help_text=_("Needed to remove a student; kept in each enrollment's history."),
    )


class EnrollmentStatusChangeInline(ReadOnlyTabularInline):
    model = EnrollmentStatusChange
    fields = ("changed_at", "from_status", "to_status", "grade", "changed_by", "reason")
    verbose_name_plural = _("status history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


def _status_action(to_status: str, description):
    def action(modeladmin, request, queryset):
        reason = request.POST.get("reason", "")
        changed, refused = 0, []
        for enrollment in queryset.select_related(None).only("pk", "status"):
            try:
                enrollment_change_status(
                    enrollment_id=enrollment.pk,
                    to_status=to_status,
                    actor=request.user,
                    reason=reason,
                )
            except ValidationError as error:
                refused.append(f"#{enrollment.pk}: {' '.join(error.messages)}")
            else:
                changed += 1
        if changed:
            modeladmin.message_user(
                request,
                ngettext("%(count)d enrollment changed.", "%(count)d enrollments changed.", changed)
                % {"count": changed},
                messages.SUCCESS,
            )
        for line in refused[:20]:
            modeladmin.message_user(request, line, messages.ERROR)
        if len(refused) > 20:
            modeladmin.message_user(
                request, _("…and %(n)d more refused.") % {"n": len(refused) - 20}, messages.ERROR
            )

    action.__name__ = f"make_{to_status}"
    return admin.action(description=description)(action)


@admin.register(Enrollment)
class EnrollmentAdmin(StudentRecordAccessLogMixin, admin.ModelAdmin):
    formfield_overrides = TEXT_RULES
    list_display = (
        "id",
        "student",
        "course",
        "high_school",
        "academic_year",
        "status",
        "grade",
        "status_changed_at",
    )
    list_display_links = ("id", "student")
    list_filter = (
        "status",
        "section__academic_year",
        "section__term",
        "section__articulation__consortium",
    )
    list_select_related = (
        "student",
        "section__articulation__high_school_course",
        "section__high_school",
        "section__academic_year",
    )
    search_fields = (
        "student__sers_id",
        "student__legal_last_name",
        "student__legal_first_name",
        "section__articulation__agreement_number",
        "section__high_school__name",
        "college_student_id",
    )
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [EnrollmentStatusChangeInline]
    action_form = EnrollmentActionForm
    actions = [
        _status_action(EnrollmentStatus.CONFIRMED, _("Confirm selected enrollments")),
        _status_action(EnrollmentStatus.WITHDRAWN, _("Withdraw selected enrollments")),
        _status_action(
            EnrollmentStatus.REMOVED,
            _("Remove selected enrollments: not in the class (give a reason)"),
        ),
    ]
    # Status, grade and transcription move together through enrollment_change_status.
    readonly_fields = (
        "student",
        "section",
        "registered_by",
        "status",
        "status_changed_at",
        "grade",
        "graded_at",
        "graded_by",
        "transcribed_on",
        "created_at",
    )
    fieldsets = (
        (None, {"fields": ("student", "section", "registered_by")}),
        (
            _("Status (changed only through SERS or the actions on the enrollment list)"),
            {"fields": ("status", "status_changed_at", "grade", "graded_at", "graded_by")},
        ),
        (_("College transcript"), {"fields": ("college_student_id", "transcribed_on")}),
        (_("Record"), {"fields": ("created_at",)}),
    )

    def get_queryset(self, request):
        # Also for the autocomplete boxes, whose labels show course, school and year.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def logged_student_ids(self, obj: Enrollment) -> list[int]:
        return [obj.student_id]

    def has_add_permission(self, request):
        return False  # students register through SERS, where the registration rules apply

    def has_delete_permission(self, request, obj=None):
        return False  # an enrollment is withdrawn or removed, never deleted

    @admin.display(
        description=_("course"), ordering="section__articulation__high_school_course__title"
    )
    def course(self, obj: Enrollment) -> str:
        return obj.section.articulation.high_school_course.title

    @admin.display(description=_("high school"), ordering="section__high_school__name")
    def high_school(self, obj: Enrollment) -> str:
        return obj.section.high_school.name

    @admin.display(description=_("year"), ordering="section__academic_year__start_date")
    def academic_year(self, obj: Enrollment) -> str:
        return obj.section.academic_year.code


@admin.register(EnrollmentStatusChange)
class EnrollmentStatusChangeAdmin(StudentRecordAccessLogMixin, ReadOnlyAdmin):
    list_display = (
        "changed_at",
        "enrollment",
        "student",
        "from_status",
        "to_status",
        "grade",
        "changed_by",
    )
    list_filter = ("to_status",)
    list_select_related = ("enrollment__student", "changed_by")
    search_fields = (
        "enrollment__student__sers_id",
        "enrollment__student__legal_last_name",
        "changed_by__email",
        "reason",
    )
    date_hierarchy = "changed_at"
    show_full_result_count = False
    fields = (
        "enrollment",
        "from_status",
        "to_status",
        "grade",
        "changed_by",
        "changed_at",
        "reason",
    )
    readonly_fields = fields

    def logged_student_ids(self, obj: EnrollmentStatusChange) -> list[int]:
        return [obj.enrollment.student_id]

    @admin.display(description=_("student"))
    def student(self, obj: EnrollmentStatusChange):
        return obj.enrollment.student


# --- fees ---------------------------------------------------------------------------------


class FeeForm(forms.ModelForm):
    class Meta:
        model = Fee
        fields = (
            "student",
            "consortium",
            "academic_year",
            "amount",
            "status",
            "paid_amount",
            "paid_on",
            "receipt_number",
            "waiver_reason",
        )
        field_classes = {"receipt_number": TextLineField, "waiver_reason": TextLineField}

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if status == Fee.Status.WAIVED and not cleaned.get("waiver_reason", "").strip():
            self.add_error("waiver_reason", _("Give the reason for the waiver."))
        if status == Fee.Status.PAID and not cleaned.get("paid_on"):
            self.add_error("paid_on", _("Enter the date the fee was paid."))
        return cleaned


@admin.register(Fee)
class FeeAdmin(StudentRecordAccessLogMixin, admin.ModelAdmin):
    form = FeeForm
    formfield_overrides = TEXT_RULES
    list_display = (
        "student",
        "consortium",
        "academic_year",
        "amount",
        "status",
        "paid_on",
        "receipt_number",
    )
    list_filter = ("status", "academic_year", "consortium")
    list_select_related = ("student", "consortium", "academic_year")
    search_fields = (
        "student__sers_id",
        "student__legal_last_name",
        "student__legal_first_name",
        "receipt_number",
    )
    autocomplete_fields = ("student",)
    readonly_fields = ("recorded_by", "updated_at")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("student", "consortium", "academic_year", "amount")}),
        (
            _("Payment or waiver"),
            {
                "fields": (
                    "status",
                    ("paid_amount", "paid_on", "receipt_number"),
                    "waiver_reason",
                )
            },
        ),
        (_("Record"), {"fields": ("recorded_by", "updated_at")}),
    )

    def logged_student_ids(self, obj: Fee) -> list[int]:
        return [obj.student_id]

    def save_model(self, request, obj, form, change):
        payment_fields = {"status", "paid_amount", "paid_on", "receipt_number", "waiver_reason"}
        if not change or payment_fields & set(form.changed_data):
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


# --- identity reviews (decided through the staff pages, only looked at here) ---------------


@admin.register(PossibleDuplicate)
class PossibleDuplicateAdmin(StudentRecordAccessLogMixin, ReadOnlyAdmin):
    list_display = (
        "created_at",
        "student",
        "existing_student",
        "match_kind",
        "source",
        "status",
        "reviewed_at",
    )
    list_filter = ("status", "match_kind", "source")
    list_select_related = ("student", "existing_student")
    search_fields = (
        "student__sers_id",
        "student__legal_last_name",
        "existing_student__sers_id",
        "existing_student__legal_last_name",
    )
    date_hierarchy = "created_at"
    fields = (
        ("student", "existing_student"),
        ("match_kind", "source"),
        "status",
        ("created_at", "reviewed_at", "reviewed_by"),
    )
    readonly_fields = (
        "student",
        "existing_student",
        "match_kind",
        "source",
        "status",
        "created_at",
        "reviewed_at",
        "reviewed_by",
    )

    def logged_student_ids(self, obj: PossibleDuplicate) -> list[int]:
        return [obj.student_id, obj.existing_student_id]


@admin.register(IdentityChange)
class IdentityChangeAdmin(StudentRecordAccessLogMixin, ReadOnlyAdmin):
    list_display = ("created_at", "student", "status", "requested_by", "decided_at")
    list_filter = ("status",)
    list_select_related = ("student", "requested_by")
    search_fields = ("student__sers_id", "student__legal_last_name", "new_last_name")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "student",
        "status",
        ("old_first_name", "old_middle_name", "old_last_name", "old_birth_date"),
        ("new_first_name", "new_middle_name", "new_last_name", "new_birth_date"),
        "reason",
        ("requested_by", "created_at"),
        ("decided_by", "decided_at"),
        "decision_note",
    )
    readonly_fields = (
        "student",
        "status",
        "old_first_name",
        "old_middle_name",
        "old_last_name",
        "old_birth_date",
        "new_first_name",
        "new_middle_name",
        "new_last_name",
        "new_birth_date",
        "reason",
        "requested_by",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
    )

    def logged_student_ids(self, obj: IdentityChange) -> list[int]:
        return [obj.student_id]


# --- staff workflow records (written by the staff pages, only looked at here) --------------


@admin.register(FeeChange)
class FeeChangeAdmin(StudentRecordAccessLogMixin, ReadOnlyAdmin):
    list_display = ("changed_at", "fee", "from_status", "to_status", "changed_by")
    list_filter = ("to_status",)
    list_select_related = ("fee", "changed_by")
    search_fields = ("fee__student__sers_id", "receipt_number")
    date_hierarchy = "changed_at"
    show_full_result_count = False
    fields = (
        "fee",
        ("from_status", "to_status"),
        ("paid_amount", "paid_on", "receipt_number"),
        "waiver_reason",
        "note",
        ("changed_by", "changed_at"),
    )
    readonly_fields = (
        "fee",
        "from_status",
        "to_status",
        "paid_amount",
        "paid_on",
        "receipt_number",
        "waiver_reason",
        "note",
        "changed_by",
        "changed_at",
    )

    def logged_student_ids(self, obj: FeeChange) -> list[int]:
        return [obj.fee.student_id]


@admin.register(SectionRequest)
class SectionRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "teacher", "articulation", "high_school", "status")
    list_filter = ("status",)
    list_select_related = ("teacher", "articulation__high_school_course", "high_school")
    search_fields = ("teacher__email", "articulation__agreement_number")
    fields = (
        ("teacher", "articulation"),
        ("high_school", "academic_year", "term", "section_code"),
        "note",
        "status",
        ("decided_by", "decided_at"),
        "decision_note",
        "section",
        "created_at",
    )
    readonly_fields = (
        "teacher",
        "articulation",
        "high_school",
        "academic_year",
        "term",
        "section_code",
        "note",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
        "section",
        "created_at",
    )


@admin.register(StudentMerge)
class StudentMergeAdmin(StudentRecordAccessLogMixin, ReadOnlyAdmin):
    list_display = ("merged_at", "merged", "survivor", "merged_by")
    list_select_related = ("merged", "survivor", "merged_by")
    search_fields = ("merged__sers_id", "survivor__sers_id")
    fields = ("survivor", "merged", "merged_by", "merged_at", "reason", "decisions", "summary")
    readonly_fields = fields

    def logged_student_ids(self, obj: StudentMerge) -> list[int]:
        return [obj.survivor_id, obj.merged_id]


# The class lists schools upload have their admin beside the code that reads them.
from .oneroster import admin as _oneroster_admin  # noqa: E402, F401
