"""The main menu: which pages each role sees. Later pages add their entries here."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Access, Capability
from reports.selectors.access import may_review_access_log


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    capability: Capability | None = None  # None: everyone, signed in or not
    signed_in: bool = False
    anonymous_only: bool = False  # only for visitors who are not signed in
    allowed: Callable[[Access], bool] | None = None  # a finer check than one capability


NAV_ENTRIES: list[NavEntry] = [
    NavEntry(_("Home"), "home"),
]

# Students (enrollment app).
NAV_ENTRIES += [
    NavEntry(_("My dashboard"), "enrollment:dashboard", Capability.MANAGE_OWN_REGISTRATIONS),
    NavEntry(_("Register for classes"), "enrollment:register", Capability.MANAGE_OWN_REGISTRATIONS),
    NavEntry(_("My college credits"), "enrollment:credits", Capability.MANAGE_OWN_REGISTRATIONS),
    NavEntry(_("My profile"), "enrollment:profile", Capability.MANAGE_OWN_REGISTRATIONS),
    NavEntry(
        _("Who viewed my record"), "reports:record_views", Capability.MANAGE_OWN_REGISTRATIONS
    ),
    NavEntry(_("Create a student account"), "enrollment:sign_up", anonymous_only=True),
]

# Articulation agreements (articulations app): the public search, and staff work.
NAV_ENTRIES += [
    NavEntry(_("Find dual-credit classes"), "articulations:search"),
    NavEntry(_("Agreements"), "articulations:manage_list", Capability.VIEW_ARTICULATION_WORK),
]


# Reports (reports app): the dashboard for reporting roles, transcript-credit reports for
# registrars (state staff reach them from the dashboard and "My reports").
NAV_ENTRIES += [
    NavEntry(_("Reports"), "reports:report_dashboard", Capability.VIEW_REPORTS),
    NavEntry(_("Transcript credit"), "reports:report_transcript_new", Capability.TRANSCRIBE),
]


# The student-record access log (reports app): consortium admins and state staff.
NAV_ENTRIES += [
    NavEntry(_("Access log"), "reports:access_log", allowed=may_review_access_log),
]


# The organisations (organisations app): state staff manage consortia, colleges, districts
# and high schools.
NAV_ENTRIES += [
    NavEntry(
        _("Organisations"),
        "organisations:state_organisations_home",
        Capability.MANAGE_ORGANIZATIONS,
    ),
]


# Running SERS (operations app): state staff see the background work's health.
NAV_ENTRIES += [
    NavEntry(_("Operations"), "operations:home", Capability.VIEW_OPERATIONS),
]


# Staff workflows (enrollment app): teachers' classes, student lookup and help desk, the
# consortium's work (fees, duplicates, class requests, policy, teachers), transcription.
NAV_ENTRIES += [
    NavEntry(_("My classes"), "enrollment:teacher_classes", Capability.MANAGE_ROSTER),
    NavEntry(_("Students"), "enrollment:staff_lookup", Capability.LOOKUP_STUDENTS),
    NavEntry(_("Consortium"), "enrollment:consortium_home", Capability.RECORD_PAYMENTS),
    NavEntry(_("Transcription queue"), "enrollment:registrar_queue", Capability.TRANSCRIBE),
    NavEntry(_("School class lists"), "enrollment:sis_imports", Capability.IMPORT_SIS_ROSTERS),
]


# College systems (api app): the registrars' API tokens.
NAV_ENTRIES += [
    NavEntry(_("API tokens"), "api:tokens", Capability.TRANSCRIBE),
]


def nav_items(*, access: Access, path: str) -> list[dict]:
    items = []
    for entry in NAV_ENTRIES:
        if entry.signed_in and access.user_id is None:
            continue
        if entry.anonymous_only and access.user_id is not None:
            continue
        if entry.capability and not access.can(entry.capability):
            continue
        if entry.allowed and not entry.allowed(access):
            continue
        url = reverse(entry.url_name)
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": entry.label, "url": url, "active": active})
    return items
