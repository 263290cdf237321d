"""Tables of the access-log pages (django-tables2). Rows come with their actor, roles and
students already loaded (reports.selectors.access), so a page costs the same number of
queries at any size. The log is read-only: no table offers an edit or delete action."""

import datetime
import re

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from sers.formatting import display_datetime

from .selectors.access import actor_roles

TABLE_TEMPLATE = "articulations/table.html"  # caption, aria-sort and a translated pager
PLACEHOLDER_ID = 987654321  # stands in for an id in a URL reversed once per table


class _UrlPattern:
    """reverse() once per table; rows swap in their id."""

    def __init__(self, name: str):
        self.url = reverse(name, args=[PLACEHOLDER_ID])

    def __call__(self, pk: int) -> str:
        return self.url.replace(str(PLACEHOLDER_ID), str(pk))


def when_html(at: datetime.datetime, *, with_utc: bool = True):
    """Local date and time (the site's time zone) in the one date style; for staff
    reviewing the log, the stored UTC time below it (what other systems' logs use)."""
    local = timezone.localtime(at)
    utc = at.astimezone(datetime.UTC)
    moment = format_html(
        '<time datetime="{}">{} {}</time>',
        utc.isoformat(timespec="seconds").replace("+00:00", "Z"),
        display_datetime(local),
        local.tzname(),
    )
    if not with_utc:
        return moment
    return format_html(
        '{}<br><span class="small text-body-secondary">{}</span>',
        moment,
        utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def roles_html(entry):
    roles = actor_roles(entry)
    if not roles:
        return "—"
    return format_html(
        '<ul class="list-unstyled mb-0">{}</ul>',
        format_html_join(
            "",
            "<li>{}{}</li>",
            (
                (r.role, format_html('<br><span class="small">{}</span>', r.organisation))
                if r.organisation
                else (r.role, "")
                for r in roles
            ),
        ),
    )


# What an entry concerned, as the log stores it (in English, the same in every language:
# `what=` in the services and views) and as a reader of the page's language reads it.
WHAT = {
    "class completed": _("class completed"),
    "class roster": _("class roster"),
    "confirmation email resent": _("confirmation email resent"),
    "contact details": _("contact details"),
    "credit transcribed": _("credit transcribed"),
    "credit": _("credit"),
    "credits ready for the transcript": _("credits ready for the transcript"),
    "credits acknowledged": _("credits acknowledged"),
    "duplicate pair: different people": _("duplicate pair: different people"),
    "duplicate review": _("duplicate review"),
    "enrollment history": _("enrollment history"),
    "fee list": _("fee list"),
    "fee recorded": _("fee recorded"),
    "fee": _("fee"),
    "grade entry": _("grade entry"),
    "grade override": _("grade override"),
    "grades saved": _("grades saved"),
    "legal identity change requested": _("legal identity change requested"),
    "legal identity corrected": _("legal identity corrected"),
    "legal identity request cancelled": _("legal identity request cancelled"),
    "merge comparison": _("merge comparison"),
    "merge of duplicate student records": _("merge of duplicate student records"),
    "password reset sent": _("password reset sent"),
    "registration": _("registration"),
    "removed from class": _("removed from class"),
    "roster confirmed": _("roster confirmed"),
    "student login email": _("student login email"),
    "student lookup": _("student lookup"),
    "student record": _("student record"),
    "transcription undone": _("transcription undone"),
    "withdrawal": _("withdrawal"),
    "access log review": _("access log review"),
    "access log review: student": _("access log review: student"),
}
# The entries whose text carries a number or a name.
WHAT_PATTERNS = [
    (
        re.compile(r"report job (?P<number>\d+): (?P<kind>.+) \(manage\.py (?P<command>\S+)\)"),
        _("report %(number)s: %(kind)s (manage.py %(command)s)"),
    ),
    (re.compile(r"report job (?P<number>\d+): (?P<kind>.+)"), _("report %(number)s: %(kind)s")),
    (re.compile(r"transcription queue \((?P<view>.+)\)"), _("transcription queue (%(view)s)")),
    (
        re.compile(r"access log review: staff member (?P<number>\d+)"),
        _("access log review: staff member %(number)s"),
    ),
    (re.compile(r"API token (?P<token>\S+): (?P<what>.+)"), _("API token %(token)s: %(what)s")),
    (re.compile(r"admin: (?P<page>.+)"), _("admin site: %(page)s")),
]


def what_text(what: str) -> str:
    """An entry's `what` in the reader's language (as stored when it is not known)."""
    if what in WHAT:
        return str(WHAT[what])
    for pattern, text in WHAT_PATTERNS:
        match = pattern.fullmatch(what)
        if match:
            parts = {name: gettext(value) for name, value in match.groupdict().items()}
            parts = {name: what_text(value) for name, value in parts.items()}
            return text % parts
    return what


def action_html(entry):
    return format_html(
        '<span class="badge text-bg-secondary">{}</span><br><span class="small">{}</span>',
        entry.get_action_display(),
        what_text(entry.what),
    )


class AccessLogTable(tables.Table):
    """Entries for consortium admins and state staff, newest first."""

    at = tables.Column(verbose_name=_("When"), empty_values=())
    actor = tables.Column(verbose_name=_("Staff member"), empty_values=())
    role = tables.Column(verbose_name=_("Role"), empty_values=())
    action = tables.Column(verbose_name=_("Action and page"), empty_values=())
    students = tables.Column(verbose_name=_("Students"), empty_values=())
    ip_address = tables.Column(verbose_name=_("From (IP address)"), empty_values=())

    class Meta:
        template_name = TABLE_TEMPLATE
        attrs = {"class": "table table-sm align-top"}
        orderable = False  # newest first, always: the log is read in time order
        empty_text = _("No entries match these filters.")

    caption = _("Student-record access log, newest first")

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_state = access.is_state
        self.student_url = _UrlPattern("reports:access_log_student")
        self.staff_url = _UrlPattern("reports:access_log_staff")

    def render_at(self, record):
        return when_html(record.at)

    def render_actor(self, record):
        actor = record.actor
        if actor is None:
            return _("SERS (automatic)")
        name = actor.get_full_name() or actor.email
        reviewable = self.is_state or getattr(record, "actor_reviewable", False)
        if reviewable:
            name = format_html('<a href="{}">{}</a>', self.staff_url(actor.pk), name)
        return format_html(
            '{}<br><span class="small text-body-secondary text-break">{}</span>', name, actor.email
        )

    def render_role(self, record):
        return roles_html(record)

    def render_action(self, record):
        return action_html(record)

    def render_students(self, record):
        shown = record.shown_links
        total = getattr(record, "students_in_scope", record.student_count)
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> <span class="small text-body-secondary">SERS {}</span></li>',
            (
                (self.student_url(link.student_id), link.student.legal_name, link.student.sers_id)
                for link in shown
            ),
        )
        more = total - len(shown)
        if more > 0:
            items = format_html(
                '{}<li class="small">{}</li>',
                items,
                ngettext("and %(n)s more student", "and %(n)s more students", more) % {"n": more},
            )
        return format_html('<ul class="list-unstyled mb-0">{}</ul>', items)

    def render_ip_address(self, record):
        return record.ip_address or "—"


class RecordViewsTable(tables.Table):
    """A student's own page: who saw or changed their record. No addresses, no emails."""

    at = tables.Column(verbose_name=_("When"), empty_values=())
    actor = tables.Column(verbose_name=_("Who"), empty_values=())
    role = tables.Column(verbose_name=_("Role and organisation"), empty_values=())
    action = tables.Column(verbose_name=_("What"), empty_values=())

    class Meta:
        template_name = TABLE_TEMPLATE
        attrs = {"class": "table table-sm align-top"}
        orderable = False
        empty_text = _("Nobody else has looked at your record yet.")

    caption = _("Who has viewed your record, newest first")

    def render_at(self, record):
        return when_html(record.at, with_utc=False)

    def render_actor(self, record):
        actor = record.actor
        if actor is None:
            return _("SERS (automatic report)")
        return actor.get_full_name() or _("A staff member")

    def render_role(self, record):
        return roles_html(record)

    def render_action(self, record):
        return action_html(record)
