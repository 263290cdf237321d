"""The student-record access log in the Django admin: read only, and every admin page
that shows student records logs them like every other view in SERS."""

from django.contrib import admin
from django.contrib.auth import get_user_model

from accounts.admin import ReadOnlyAdmin, UserAdmin

from .models import AccessLogEntry, AccessLogStudent
from .services import access_log_record

# --- the student-record access log (FERPA) ---------------------------------------------


class StudentRecordAccessLogMixin:
    """Logs each admin page that shows student records, like every other view in SERS.

    A change page logs its student(s); a list logs the students on the page shown.
    Subclasses say which students an object concerns in `logged_student_ids`.
    """

    access_log_what = ""

    def logged_student_ids(self, obj) -> list[int]:
        raise NotImplementedError

    def _log_access(self, request, objects, what: str) -> None:
        student_ids = {sid for obj in objects for sid in self.logged_student_ids(obj) if sid}
        if not student_ids:
            return
        access_log_record(
            actor=request.user,
            action=AccessLogEntry.Action.VIEW,
            what=what,
            student_ids=student_ids,
            role="admin_site",
            request=request,
        )

    def _what(self) -> str:
        return self.access_log_what or f"admin: {self.model._meta.verbose_name}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if response.status_code == 200 and original is not None:
            self._log_access(request, [original], self._what())
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            self._log_access(request, changelist.result_list, f"{self._what()} (list)")
        return response


# --- accounts ---------------------------------------------------------------------------


User = get_user_model()


# The user list and a user's page show the student record of student accounts: logged.
admin.site.unregister(User)


@admin.register(User)
class LoggedUserAdmin(StudentRecordAccessLogMixin, UserAdmin):
    def logged_student_ids(self, obj) -> list[int]:
        profile = getattr(obj, "student_profile", None)
        return [profile.pk] if profile else []


# The log is evidence of who saw which student records: nobody edits or deletes it here.
@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "role", "action", "what", "student_count", "ip_address"]
    list_filter = ["action", "role", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor__email", "what"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    show_full_result_count = False  # the log grows large; counting it all is slow


@admin.register(AccessLogStudent)
class AccessLogStudentAdmin(ReadOnlyAdmin):
    list_display = ["entry", "student"]
    search_fields = ["student__sers_id"]
    list_select_related = ["entry", "student"]
    show_full_result_count = False
