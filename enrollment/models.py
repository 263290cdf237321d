"""Students, classes (sections), enrollments with their status history, and fees.

Over 600 lines on purpose: Django looks for an app's models in models.py, and these
models are one web of foreign keys (a student's enrollments in classes, their fees, the
history, review and merge rows about them, and the schools' own class lists compared with
the classes) that is read and migrated as a whole.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articulations.models import Articulation
from organisations.models import AcademicYear, Consortium, HighSchool


class StudentProfile(models.Model):
    """A student's identity. One person is one record across years and schools."""

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        NONBINARY = "nonbinary", _("Nonbinary")
        NOT_LISTED = "not_listed", _("Not listed")

    class RaceEthnicity(models.TextChoices):
        AMERICAN_INDIAN = "american_indian", _("American Indian or Alaska Native")
        ASIAN = "asian", _("Asian")
        BLACK = "black", _("Black or African American")
        HISPANIC = "hispanic", _("Hispanic or Latino")
        PACIFIC_ISLANDER = "pacific_islander", _("Native Hawaiian or Pacific Islander")
        WHITE = "white", _("White")
        MULTIRACIAL = "multiracial", _("Two or more races")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="student_profile"
    )
    sers_id = models.CharField(_("SERS ID"), max_length=9, unique=True, editable=False)
    legal_first_name = models.CharField(_("legal first name"), max_length=100)
    legal_middle_name = models.CharField(_("legal middle name"), max_length=100, blank=True)
    legal_last_name = models.CharField(_("legal last name"), max_length=100)
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    high_school = models.ForeignKey(HighSchool, on_delete=models.PROTECT, related_name="students")
    graduation_year = models.PositiveSmallIntegerField(_("graduation year"))
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    race_ethnicity = models.CharField(max_length=20, choices=RaceEthnicity.choices, blank=True)
    language = models.CharField(
        _("language for emails"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        editable=False,
        help_text=_("Set when staff merged this duplicate record into another student."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sers_id__regex=r"^[0-9]{9}$"), name="student_sers_id_format"
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="student_not_merged_into_self"
            ),
            models.CheckConstraint(
                condition=Q(graduation_year__gte=1990, graduation_year__lte=2100),
                name="student_graduation_year_range",
            ),
            models.CheckConstraint(
                condition=~Q(legal_first_name="") & ~Q(legal_last_name=""),
                name="student_legal_name_required",
            ),
        ]
        indexes = [
            models.Index(fields=["birth_date", "legal_last_name"]),
            models.Index(fields=["high_school", "legal_last_name"]),
            # Lists sorted by name (the registrar's waiting tab) read it in order.
            models.Index(fields=["legal_last_name", "legal_first_name"], name="student_name"),
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.sers_id})"

    @property
    def legal_name(self) -> str:
        parts = [self.legal_first_name, self.legal_middle_name, self.legal_last_name]
        return " ".join(p for p in parts if p)


class Section(models.Model):
    """A class: an articulated course taught by a teacher at a high school in a year."""

    class Term(models.TextChoices):
        FULL_YEAR = "year", _("Full year")
        FALL = "fall", _("Fall semester")
        SPRING = "spring", _("Spring semester")

    articulation = models.ForeignKey(
        Articulation, on_delete=models.PROTECT, related_name="sections"
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sections"
    )
    high_school = models.ForeignKey(HighSchool, on_delete=models.PROTECT, related_name="sections")
    academic_year = models.ForeignKey(
        AcademicYear, on_delete=models.PROTECT, related_name="sections"
    )
    term = models.CharField(max_length=10, choices=Term.choices, default=Term.FULL_YEAR)
    section_code = models.CharField(
        max_length=20, default="1", help_text=_("Period or section, e.g. P3.")
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["academic_year", "high_school", "articulation"]
        constraints = [
            models.UniqueConstraint(
                fields=["articulation", "teacher", "high_school", "academic_year", "section_code"],
                name="section_unique",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(completed_by__isnull=False),
                name="section_completion_has_actor",
            ),
        ]
        indexes = [
            models.Index(fields=["academic_year", "high_school"]),
            models.Index(fields=["teacher", "academic_year"]),
        ]

    def __str__(self) -> str:
        course = self.articulation.high_school_course.title
        return f"{course} · {self.high_school} · {self.academic_year}"


class EnrollmentStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    CONFIRMED = "confirmed", _("Confirmed")
    GRADED = "graded", _("Graded")
    ATTAINED = "attained", _("Attained")
    NOT_ATTAINED = "not_attained", _("Not attained")
    TRANSCRIBED = "transcribed", _("Transcribed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REMOVED = "removed", _("Removed")


# Enrollments in these statuses no longer hold a seat in the class.
INACTIVE_STATUSES = (EnrollmentStatus.WITHDRAWN, EnrollmentStatus.REMOVED)
GRADED_STATUSES = (
    EnrollmentStatus.GRADED,
    EnrollmentStatus.ATTAINED,
    EnrollmentStatus.NOT_ATTAINED,
    EnrollmentStatus.TRANSCRIBED,
)


class Enrollment(models.Model):
    """A student registered for a class. Only
    enrollment.services.transitions.enrollment_change_status writes `status`."""

    Status = EnrollmentStatus

    student = models.ForeignKey(
        StudentProfile, on_delete=models.PROTECT, related_name="enrollments"
    )
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(
        max_length=15, choices=EnrollmentStatus.choices, default=EnrollmentStatus.REGISTERED
    )
    grade = models.CharField(max_length=5, blank=True)
    graded_at = models.DateTimeField(null=True, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    college_student_id = models.CharField(max_length=30, blank=True)
    transcribed_on = models.DateField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Staff member who registered the student on their behalf, if any."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "section"],
                condition=~Q(status__in=INACTIVE_STATUSES),
                name="one_active_enrollment_per_class",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EnrollmentStatus.values), name="enrollment_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=GRADED_STATUSES) | ~Q(grade=""),
                name="enrollment_graded_has_grade",
            ),
            models.CheckConstraint(
                condition=~Q(status=EnrollmentStatus.TRANSCRIBED) | Q(transcribed_on__isnull=False),
                name="enrollment_transcribed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["section", "status"]),
            models.Index(fields=["student", "status"]),
            models.Index(fields=["status", "section"], name="enrollment_status_section"),
            # A college's classes' enrollments still on their way to a transcript (the
            # registrar's waiting tab), without reading the finished ones.
            models.Index(
                fields=["section"],
                condition=Q(
                    status__in=[
                        EnrollmentStatus.REGISTERED,
                        EnrollmentStatus.CONFIRMED,
                        EnrollmentStatus.GRADED,
                        EnrollmentStatus.ATTAINED,
                    ]
                ),
                name="enrollment_section_open",
            ),
            # The registrar's transcribed tab: newest postings first.
            models.Index(
                fields=["-transcribed_on"],
                condition=Q(status=EnrollmentStatus.TRANSCRIBED),
                name="enrollment_transcribed_on",
            ),
        ]

    def __str__(self) -> str:
        return f"Enrollment {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status not in INACTIVE_STATUSES


class EnrollmentStatusChange(models.Model):
    """The history of an enrollment: who changed what, when and why. Never edited."""

    class Kind(models.TextChoices):
        CHANGE = "change", _("Change")
        OVERRIDE = "override", _("Override of a rule")
        MERGE = "merge", _("Moved by a merge of duplicate students")

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(max_length=15, choices=EnrollmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=15, choices=EnrollmentStatus.choices)
    grade = models.CharField(max_length=5, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHANGE)

    class Meta:
        ordering = ["enrollment_id", "changed_at", "id"]
        indexes = [models.Index(fields=["enrollment", "changed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["change", "override", "merge"]),
                name="enrollment_change_kind_valid",
            ),
            # An override or a merge always says why.
            models.CheckConstraint(
                condition=Q(kind="change") | ~Q(reason=""), name="enrollment_override_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.from_status or '-'} → {self.to_status}"


class Fee(models.Model):
    """One fee per student per consortium per school year. Payment happens elsewhere."""

    class Status(models.TextChoices):
        UNPAID = "unpaid", _("Unpaid")
        PAID = "paid", _("Paid")
        WAIVED = "waived", _("Waived")

    student = models.ForeignKey(StudentProfile, on_delete=models.PROTECT, related_name="fees")
    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="fees")
    academic_year = models.ForeignKey(AcademicYear, on_delete=models.PROTECT, related_name="fees")
    amount = models.DecimalField(max_digits=7, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNPAID)
    paid_amount = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    receipt_number = models.CharField(max_length=60, blank=True)
    waiver_reason = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["academic_year", "consortium"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "consortium", "academic_year"], name="one_fee_per_year"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="waived") | ~Q(waiver_reason=""), name="fee_waiver_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_on__isnull=False),
                name="fee_payment_has_date",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["unpaid", "paid", "waived"]), name="fee_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["consortium", "academic_year", "status"]),
            # fee_settled_q's EXISTS, once per enrollment, answered from the index alone.
            models.Index(
                fields=["student", "consortium", "academic_year"],
                condition=Q(status__in=["paid", "waived"]) | Q(amount=0),
                name="fee_settled",
            ),
        ]

    def __str__(self) -> str:
        return f"Fee {self.pk} ({self.status})"

    @property
    def is_settled(self) -> bool:
        """Paid or waived; a $0 fee counts as settled."""
        return self.status != self.Status.UNPAID or self.amount == 0


class MatchKind(models.TextChoices):
    """How closely two student identities matched (see enrollment.identity).

    The first three compare two people born on the same day; the last two come from the
    staff duplicate check (enrollment.services.merging.duplicate_scan).
    """

    SAME = "same", _("Same name")
    VARIANT = "variant", _("Name variant (nickname, spelling, order)")
    CLOSE = "close", _("Similar name")
    BIRTH_DATE = "birth_date", _("Same name, birth date nearly the same")
    PHONE = "phone", _("Same phone number and last name")


class MatchReason(models.TextChoices):
    """One piece of evidence for (or against) two records being one student, as staff see
    it in the duplicate queue (enrollment.identity, enrollment.linkage)."""

    NAMES_SWAPPED = "names_swapped", _("given and family names in the other order")
    GIVEN_SAME = "given_same", _("same given name")
    GIVEN_NICKNAME = "given_nickname", _("one given name is a nickname of the other")
    GIVEN_SPELLING = "given_spelling", _("given name spelled or transliterated another way")
    GIVEN_SOUNDS = "given_sounds", _("given names sound the same")
    GIVEN_TYPO = "given_typo", _("given names one typing slip apart")
    GIVEN_MIDDLE = (
        "given_middle",
        _("one record goes by another of the given names (such as the middle name)"),
    )
    FAMILY_SAME = "family_same", _("same family name")
    FAMILY_COMPOUND = "family_compound", _("one family name is part of the other")
    FAMILY_SPELLING = "family_spelling", _("family name spelled another way")
    FAMILY_SOUNDS = "family_sounds", _("family names sound the same")
    FAMILY_TYPO = "family_typo", _("family names one typing slip apart")
    MIDDLE_SAME = "middle_same", _("same middle name")
    BIRTH_DATE_SAME = "birth_date_same", _("same birth date")
    BIRTH_DATE_SWAPPED = "birth_date_swapped", _("birth date with day and month swapped")
    BIRTH_DATE_TYPO = "birth_date_typo", _("birth dates one digit apart")
    EMAIL_NAME = "email_name", _("same name in the personal email, at another address")
    PHONE_SAME = "phone_same", _("same phone number")
    SCHOOL_SAME = "school_same", _("same high school")
    # Evidence of two different people.
    GIVEN_OTHER_GENDER = (
        "given_other_gender",
        _("given names are a name and its other-gender form (as Daniel and Danielle)"),
    )
    GIVEN_DIFFERENT = "given_different", _("different given names")
    FAMILY_DIFFERENT = "family_different", _("different family names")
    MIDDLE_DIFFERENT = "middle_different", _("different middle names")
    BIRTH_DATE_DIFFERENT = "birth_date_different", _("different birth dates")


MATCH_REASONS_AGAINST = frozenset(
    {
        MatchReason.GIVEN_OTHER_GENDER,
        MatchReason.GIVEN_DIFFERENT,
        MatchReason.FAMILY_DIFFERENT,
        MatchReason.MIDDLE_DIFFERENT,
        MatchReason.BIRTH_DATE_DIFFERENT,
    }
)


class PossibleDuplicate(models.Model):
    """Two student records that may be one person, let through for staff to review.

    Written when a sign-up (or a legal-name correction) resembles an existing student
    closely enough to ask, but the student said they are a different person; and by the
    statewide duplicate check (enrollment.linkage), nightly and on demand. `reasons` are
    MatchReason values, `score` the weight of the evidence (higher: likelier one person).
    """

    class Source(models.TextChoices):
        SIGN_UP = "sign_up", _("Sign-up")
        IDENTITY_CHANGE = "identity_change", _("Legal name or birth date correction")
        STAFF_CHECK = "staff_check", _("Duplicate check by consortium staff")
        STATEWIDE = "statewide", _("Statewide duplicate check")

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        DIFFERENT_PEOPLE = "different", _("Different people")
        MERGED = "merged", _("Same person, merged")

    student = models.ForeignKey(
        StudentProfile, on_delete=models.PROTECT, related_name="possible_duplicates"
    )
    existing_student = models.ForeignKey(StudentProfile, on_delete=models.PROTECT, related_name="+")
    match_kind = models.CharField(max_length=10, choices=MatchKind.choices)
    reasons = models.JSONField(default=list, blank=True)
    score = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "existing_student"], name="possible_duplicate_pair_unique"
            ),
            models.CheckConstraint(
                condition=~Q(student=models.F("existing_student")),
                name="possible_duplicate_two_students",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "different", "merged"]),
                name="possible_duplicate_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(reviewed_at__isnull=False),
                name="possible_duplicate_review_dated",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Possible duplicate {self.student_id} ~ {self.existing_student_id}"

    def _reason_labels(self, *, against: bool) -> list[str]:
        labels = dict(MatchReason.choices)
        return [
            str(labels[code])
            for code in self.reasons or []
            if code in labels and (code in MATCH_REASONS_AGAINST) == against
        ]

    @property
    def weight(self) -> str:
        """The score as both staff pages show it: one decimal, halves away from zero, in
        the language's number style (the queue and the review must agree)."""
        return "" if self.score is None else floatformat(self.score, 1)

    @property
    def reasons_for(self) -> list[str]:
        """What speaks for one person, in words."""
        return self._reason_labels(against=False)

    @property
    def reasons_against(self) -> list[str]:
        """What speaks for two people, in words."""
        return self._reason_labels(against=True)


class IdentityChange(models.Model):
    """A change of a student's legal name or birth date, with the reason and its outcome.

    Before any credit is attained the student corrects these directly (status APPLIED);
    afterwards the college transcript depends on them, so consortium staff decide.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", _("Corrected by the student")
        PENDING = "pending", _("Waiting for consortium staff")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        CANCELLED = "cancelled", _("Cancelled by the student")

    student = models.ForeignKey(
        StudentProfile, on_delete=models.PROTECT, related_name="identity_changes"
    )
    old_first_name = models.CharField(max_length=100)
    old_middle_name = models.CharField(max_length=100, blank=True)
    old_last_name = models.CharField(max_length=100)
    old_birth_date = models.DateField()
    new_first_name = models.CharField(_("legal first name"), max_length=100)
    new_middle_name = models.CharField(_("legal middle name"), max_length=100, blank=True)
    new_last_name = models.CharField(_("legal last name"), max_length=100)
    new_birth_date = models.DateField(_("birth date"))
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=10, choices=Status.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(status="pending"),
                name="identity_change_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["applied", "pending", "approved", "rejected", "cancelled"]),
                name="identity_change_status_valid",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="identity_change_has_reason"),
            models.CheckConstraint(
                condition=~Q(new_first_name="") & ~Q(new_last_name=""),
                name="identity_change_name_required",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "rejected"])
                | Q(decided_at__isnull=False, decided_by__isnull=False),
                name="identity_change_decision_recorded",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Identity change {self.pk} ({self.status})"

    @property
    def new_legal_name(self) -> str:
        parts = [self.new_first_name, self.new_middle_name, self.new_last_name]
        return " ".join(p for p in parts if p)

    @property
    def old_legal_name(self) -> str:
        parts = [self.old_first_name, self.old_middle_name, self.old_last_name]
        return " ".join(p for p in parts if p)


class FeeChange(models.Model):
    """The history of a fee: each payment, waiver or correction, with who recorded it."""

    fee = models.ForeignKey(Fee, on_delete=models.PROTECT, related_name="changes")
    from_status = models.CharField(max_length=10, choices=Fee.Status.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=Fee.Status.choices)
    paid_amount = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    receipt_number = models.CharField(max_length=60, blank=True)
    waiver_reason = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["fee_id", "changed_at", "id"]
        indexes = [models.Index(fields=["fee", "changed_at"])]

    def __str__(self) -> str:
        return f"Fee {self.fee_id}: {self.from_status or '-'} → {self.to_status}"


class SectionRequest(models.Model):
    """A teacher asks to teach an articulated course at their school in a school year.

    The consortium admin approves (the class is created) or declines it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the consortium")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled by the teacher")

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="section_requests"
    )
    articulation = models.ForeignKey(
        Articulation, on_delete=models.PROTECT, related_name="section_requests"
    )
    high_school = models.ForeignKey(
        HighSchool, on_delete=models.PROTECT, related_name="section_requests"
    )
    academic_year = models.ForeignKey(
        AcademicYear, on_delete=models.PROTECT, related_name="section_requests"
    )
    term = models.CharField(
        max_length=10, choices=Section.Term.choices, default=Section.Term.FULL_YEAR
    )
    section_code = models.CharField(_("period or section"), max_length=20, default="1")
    note = models.TextField(_("note to the consortium"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    section = models.OneToOneField(
        Section, null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["teacher", "articulation", "high_school", "academic_year", "section_code"],
                condition=Q(status="pending"),
                name="section_request_one_pending",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "declined", "cancelled"]),
                name="section_request_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "declined"])
                | Q(decided_at__isnull=False, decided_by__isnull=False),
                name="section_request_decision_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(section__isnull=False),
                name="section_request_approved_has_class",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Class request {self.pk} ({self.status})"


class StudentMerge(models.Model):
    """Two records of one student merged into one: what moved, and the decisions taken.

    The merged record stays (marked merged_into, its account deactivated) so both SERS
    ids keep leading to the same person.
    """

    survivor = models.ForeignKey(
        StudentProfile, on_delete=models.PROTECT, related_name="merges_received"
    )
    merged = models.OneToOneField(
        StudentProfile, on_delete=models.PROTECT, related_name="merge_as_merged"
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()
    decisions = models.JSONField(
        default=list, blank=True, help_text=_("The conflicts found and what staff decided.")
    )
    summary = models.JSONField(default=dict, blank=True, help_text=_("What moved."))

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(survivor=models.F("merged")), name="student_merge_two_students"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="student_merge_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Merge {self.merged_id} → {self.survivor_id}"


# --- class lists from the schools' student information systems (OneRoster imports) --------
# A school's export (enrollment.oneroster reads it; enrollment.services.oneroster writes
# it) becomes one SisImport with the school's classes, the students in them and who is in
# which class, as the SIS gives them. Only the current import of each school (and of each
# teacher who uploads their own classes) is kept; the rows of an import are written
# before it becomes current and never changed after. SisClassMapping remembers which SERS
# class an SIS class is, from one import to the next. Nobody is registered from these:
# the teacher's roster compares them with the students who registered.


class SisImport(models.Model):
    """One upload of a school's class lists: who uploaded it, when, and what it held."""

    high_school = models.ForeignKey(
        HighSchool, on_delete=models.PROTECT, related_name="sis_imports"
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A teacher's own upload: it shows on their classes only."),
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)
    source_system = models.CharField(max_length=100, blank=True)
    is_current = models.BooleanField(default=True)
    classes_count = models.PositiveIntegerField(default=0)
    students_count = models.PositiveIntegerField(default=0)
    enrollments_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["high_school"],
                condition=Q(is_current=True, teacher__isnull=True),
                name="sis_import_one_current_per_school",
            ),
            models.UniqueConstraint(
                fields=["high_school", "teacher"],
                condition=Q(is_current=True, teacher__isnull=False),
                name="sis_import_one_current_per_teacher",
            ),
        ]
        indexes = [models.Index(fields=["high_school", "-imported_at"], name="sis_import_school")]

    def __str__(self) -> str:
        return f"SIS import {self.pk} ({self.high_school_id})"


class SisClass(models.Model):
    """A class of an import, as the SIS describes it (course, code, period, term, teachers)."""

    sis_import = models.ForeignKey(SisImport, on_delete=models.CASCADE, related_name="classes")
    sourced_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255)
    class_code = models.CharField(max_length=100, blank=True)
    course_title = models.CharField(max_length=255, blank=True)
    course_code = models.CharField(max_length=100, blank=True)
    periods = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=100, blank=True)
    terms = models.CharField(max_length=255, blank=True, help_text=_("The terms' titles."))
    term_types = models.CharField(max_length=100, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    teachers = models.CharField(
        max_length=255, blank=True, help_text=_("Names, as the SIS gives them.")
    )
    teacher_emails = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["title", "sourced_id"]
        constraints = [
            models.UniqueConstraint(fields=["sis_import", "sourced_id"], name="sis_class_unique"),
            models.CheckConstraint(condition=~Q(sourced_id=""), name="sis_class_has_id"),
        ]

    def __str__(self) -> str:
        return self.title


class SisStudent(models.Model):
    """A student of an import, named as the SIS names them. Not a SERS student record."""

    sis_import = models.ForeignKey(SisImport, on_delete=models.CASCADE, related_name="students")
    sourced_id = models.CharField(max_length=255)
    identifier = models.CharField(
        max_length=100, blank=True, help_text=_("The school's student number.")
    )
    given_name = models.CharField(max_length=150)
    middle_name = models.CharField(max_length=150, blank=True)
    family_name = models.CharField(max_length=150)
    preferred_given_name = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["family_name", "given_name", "sourced_id"]
        constraints = [
            models.UniqueConstraint(fields=["sis_import", "sourced_id"], name="sis_student_unique"),
            models.CheckConstraint(
                condition=~Q(given_name="") & ~Q(family_name=""), name="sis_student_has_name"
            ),
        ]

    def __str__(self) -> str:
        return f"SIS student {self.pk}"


class SisEnrollment(models.Model):
    """A student in a class, in an import. Deleted only with its import's rows, first and
    in one statement (enrollment.services.oneroster): DO_NOTHING lets the database's
    foreign keys guard the order, and the classes and students go in one statement each."""

    sis_class = models.ForeignKey(SisClass, on_delete=models.DO_NOTHING, related_name="enrollments")
    sis_student = models.ForeignKey(
        SisStudent, on_delete=models.DO_NOTHING, related_name="enrollments"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sis_class", "sis_student"], name="sis_enrollment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"SIS enrollment {self.pk}"


class SisClassMapping(models.Model):
    """Which SERS class an SIS class of a school is, as staff or the teacher confirmed it
    (no class: it is not a dual-credit class, skipped). Kept across imports: an SIS keeps
    a class's sourcedId from one export to the next."""

    high_school = models.ForeignKey(HighSchool, on_delete=models.CASCADE, related_name="+")
    class_sourced_id = models.CharField(max_length=255)
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.CASCADE, related_name="sis_mappings"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["high_school", "class_sourced_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["high_school", "class_sourced_id"], name="sis_class_mapping_unique"
            ),
            models.CheckConstraint(
                condition=~Q(class_sourced_id=""), name="sis_class_mapping_has_id"
            ),
        ]
        indexes = [
            models.Index(
                fields=["section"], condition=Q(section__isnull=False), name="sis_mapping_section"
            )
        ]

    def __str__(self) -> str:
        return f"{self.class_sourced_id} → {self.section_id or '-'}"
