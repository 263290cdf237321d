"""College registrars (/registrar/): the transcription queue, marking credits
transcribed, undo, and the posted-credits upload."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from accounts.permissions import Capability, get_in_scope
from enrollment import importers, pagecache, rules
from enrollment.selectors import registrar, teaching
from sers.templatetags.sers_ui import EXTRA, SummaryItem, summary_items

from ..filters import RegistrarQueueFilter
from ..forms import (
    PostedCreditsUploadForm,
    PostingDateForm,
    TranscribeForm,
    UndoTranscriptionForm,
)
from ..models import (
    Enrollment,
    EnrollmentStatus,
)
from ..services import (
    transcription,
)
from ..tables import TranscribedTable, WaitingTable
from .common import (
    add_errors,
    error_text,
    is_fragment,
    log_view,
    paginate,
    require_capability,
    row_summary_item,
    upload_apply,
    upload_summary,
)

# --- college registrars -------------------------------------------------------------------------


def _queue_what(view: str) -> str:
    """What the access log says a view of the queue's tab was (reports.tables.WHAT)."""
    return f"transcription queue ({view})"


def _queue_view(request) -> str:
    view = request.GET.get("view", "ready")
    return view if view in registrar.QUEUE_VIEWS else "ready"


@login_required
@require_GET
def registrar_queue(request):
    """The college's enrollments: ready to transcribe (tick and mark), still waiting (and
    why), and transcribed (undo within the allowed days)."""
    access = require_capability(request, Capability.TRANSCRIBE)
    view = _queue_view(request)
    fragment = is_fragment(request)
    # Registrars of the same colleges see the same queue: it is kept per college set and
    # query.
    content, extra = pagecache.registrar_queue_page(
        request,
        page="registrar-queue-results" if fragment else "registrar-queue",
        college_ids=access.registrar_college_ids,
        build=lambda: _registrar_queue_content(request, access, view, fragment=fragment),
    )
    log_view(
        request,
        what=_queue_what(view),
        student_ids=extra["student_ids"],
        role="registrar",
    )
    if fragment:
        return HttpResponse(content)
    return render(request, "enrollment/staff/registrar_queue.html", {"content": content})


@dataclass(frozen=True)
class ReadyRow:
    """A row of the ready tab: the credit and the college student ID in its box (the one
    known for the student, or what the registrar typed); on a refused mark, whether it
    was ticked and what is wrong with it. Unpacks as (enrollment, college student ID)."""

    enrollment: Enrollment
    college_id: str
    ticked: bool = False
    error: str = ""

    def __iter__(self):
        return iter((self.enrollment, self.college_id))


@dataclass(frozen=True)
class Posted:
    """A refused "mark transcribed": what was sent, to show it again as it was."""

    date_form: PostingDateForm
    ticked: dict[int, str]  # enrollment id: the college student ID typed beside it
    typed: dict[int, str]  # every row's box as it was sent, ticked or not
    row_errors: dict[int, str]
    other_errors: list[str]  # the refusal's messages that belong to no row


def _registrar_queue_content(
    request, access, view: str, *, fragment: bool, params=None, posted: Posted | None = None
) -> tuple[str, dict]:
    """The queue's content for these query parameters (the request's own, or the ones a
    refused mark was sent from, with what it sent: `posted`)."""
    params = request.GET if params is None else params
    filterset = RegistrarQueueFilter(
        params,
        queryset=registrar.registrar_queue(access=access, view=view),
        college_ids=access.registrar_college_ids,
    )
    queue_url = reverse("enrollment:registrar_queue")
    tabs = []
    for name in registrar.QUEUE_VIEWS:
        tab_params = params.copy()
        tab_params.pop("page", None)
        tab_params["view"] = name
        tabs.append((name, tab_params.urlencode()))
    query = params.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "view": view,
        "tabs": tabs,
        "query": query.urlencode(),
        "form_query": params.urlencode(),
        "queue_url": queue_url,
    }
    today = timezone.localdate()
    summary: list[SummaryItem] = []
    if view == "ready":
        page = paginate(
            request,
            filterset.qs.order_by(
                "section__academic_year__start_date",
                "student__legal_last_name",
                "student__legal_first_name",
                "pk",
            ),
            params=params,
        )
        rows = list(page.object_list)
        known = registrar.known_college_student_ids(enrollments=rows)
        ready_rows = []
        for e in rows:
            college_id = e.college_student_id or known.get(
                (e.student_id, e.section.articulation.college_id), ""
            )
            if posted is None:
                ready_rows.append(ReadyRow(e, college_id))
            else:
                ready_rows.append(
                    ReadyRow(
                        e,
                        posted.typed.get(e.pk, college_id),
                        ticked=e.pk in posted.ticked,
                        error=posted.row_errors.get(e.pk, ""),
                    )
                )
        context.update(
            page=page,
            rows=ready_rows,
            date_form=posted.date_form
            if posted is not None
            else PostingDateForm(initial={"transcribed_on": today}),
        )
        student_ids = [e.student_id for e in rows]
        if posted is not None:
            summary = _refused_summary(ready_rows, posted)
    else:
        table_class = WaitingTable if view == "waiting" else TranscribedTable
        kwargs = {"today": today} if view == "transcribed" else {}
        table = table_class(filterset.qs, **kwargs)
        RequestConfig(request, paginate={"per_page": 50}).configure(table)
        context["table"] = table
        student_ids = [row.record.student_id for row in table.paginated_rows]
    template = (
        "enrollment/staff/partials/queue_results.html"
        if fragment
        else "enrollment/staff/partials/registrar_queue_content.html"
    )
    extra = {"student_ids": student_ids}
    if posted is not None:
        extra["summary"] = summary
    return pagecache.render_content(request, template, context), extra


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) < 19


def _row_errors(ticked: dict[int, str]) -> dict[int, str]:
    """Each ticked row's college student ID that cannot be used, and why (the service
    refuses them all with one message)."""
    _cleaned, problems = transcription.college_student_ids_clean(ticked)
    return {
        enrollment_id: error_text(error) if error else _("Enter their college student ID.")
        for enrollment_id, error in problems.items()
    }


def _refused_summary(rows: list[ReadyRow], posted: Posted) -> list[SummaryItem]:
    """The error summary of a refused mark: the posting date's error, each row's (linked
    to its college student ID), then what belongs to no row (linked to the first ticked
    box on the page, else the first box)."""
    items = summary_items([posted.date_form])
    shown = {row.enrollment.pk for row in rows}
    for row in rows:
        if row.error:
            target = f"college-id-{row.enrollment.pk}"
            items.append(row_summary_item(row.enrollment.student, row.error, target))
    items += [
        SummaryItem(message)
        for pk, message in posted.row_errors.items()
        if pk not in shown  # a ticked credit that has left this page of the queue
    ]
    first = next((row for row in rows if row.ticked), rows[0] if rows else None)
    target = f"pick-{first.enrollment.pk}" if first is not None else ""
    items += [SummaryItem(message, target=target) for message in posted.other_errors]
    return items


@login_required
@require_POST
def registrar_transcribe(request):
    """Mark the ticked enrollments transcribed, each with its college student id. Refused
    (all or nothing), the queue shows again as it was sent: the ticks, the IDs typed, each
    row's error and the error summary."""
    access = require_capability(request, Capability.TRANSCRIBE)
    form = PostingDateForm(request.POST)
    query = request.POST.get("query", "")
    ticked = {}
    for value in request.POST.getlist("enrollment"):
        if _is_id(value):
            ticked[int(value)] = request.POST.get(f"college_id_{value}", "")
    refusal = None
    if form.is_valid():
        try:
            count = transcription.enrollments_transcribe(
                actor=request.user,
                college_student_ids=ticked,
                transcribed_on=form.cleaned_data["transcribed_on"],
            )
        except ValidationError as error:
            refusal = error
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s credit marked transcribed.",
                    "%(count)s credits marked transcribed.",
                    count,
                )
                % {"count": count},
            )
            return redirect(reverse("enrollment:registrar_queue") + "?" + query)
    row_errors, other = {}, []
    if refusal is None:
        # The posting date is wrong: the rows' own problems are said at the same time.
        row_errors = _row_errors(ticked)
    elif hasattr(refusal, "error_dict"):
        for name, errors in refusal.error_dict.items():
            if name == "college_student_id":
                row_errors = _row_errors(ticked)
                if not row_errors:
                    other += [m for e in errors for m in e.messages]
            elif name in form.fields:
                form.add_error(name, errors)
            else:
                other += [m for e in errors for m in e.messages]
    elif getattr(refusal, "code", None) == transcription.DATE_BEFORE_ATTAINED:
        form.add_error("transcribed_on", refusal)
    else:
        other = refusal.messages
    typed = {}
    for key, value in request.POST.items():
        suffix = key.removeprefix("college_id_")
        if key.startswith("college_id_") and _is_id(suffix):
            typed[int(suffix)] = value
    posted = Posted(
        date_form=form, ticked=ticked, typed=typed, row_errors=row_errors, other_errors=other
    )
    params = QueryDict(query, mutable=True)
    params["view"] = "ready"
    content, extra = _registrar_queue_content(
        request, access, "ready", fragment=False, params=params, posted=posted
    )
    log_view(
        request,
        what=_queue_what("ready"),
        student_ids=extra["student_ids"],
        role="registrar",
    )
    return render(
        request,
        "enrollment/staff/registrar_queue.html",
        {"content": pagecache.fill_placeholders(request, content), EXTRA: extra["summary"]},
        status=400,
    )


def _registrar_enrollment(request, pk: int):
    access = require_capability(request, Capability.TRANSCRIBE)
    return get_in_scope(
        registrar.registrar_enrollments(access=access).select_related(*teaching.ENROLLMENT_DISPLAY),
        Q(),
        pk=pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def registrar_transcribe_one(request, pk: int):
    enrollment = _registrar_enrollment(request, pk)
    form = TranscribeForm(
        request.POST or None,
        initial={
            "transcribed_on": timezone.localdate(),
            "college_student_id": enrollment.college_student_id,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            transcription.enrollments_transcribe(
                actor=request.user,
                college_student_ids={enrollment.pk: form.cleaned_data["college_student_id"]},
                transcribed_on=form.cleaned_data["transcribed_on"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The credit is marked transcribed."))
            return redirect("enrollment:registrar_queue")
    return render(
        request,
        "enrollment/staff/transcribe.html",
        {"enrollment": enrollment, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def registrar_undo(request, pk: int):
    enrollment = _registrar_enrollment(request, pk)
    form = UndoTranscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            transcription.enrollment_transcription_undo(
                actor=request.user, enrollment_id=enrollment.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("The transcription is undone; the credit is back in the queue.")
            )
            return redirect(reverse("enrollment:registrar_queue") + "?view=transcribed")
    return render(
        request,
        "enrollment/staff/undo.html",
        {
            "enrollment": enrollment,
            "form": form,
            "undo_until": rules.transcription_undo_until(enrollment)
            if enrollment.status == EnrollmentStatus.TRANSCRIBED
            else None,
            "days": rules.TRANSCRIPTION_UNDO_DAYS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def registrar_upload(request):
    access = require_capability(request, Capability.TRANSCRIBE)
    form = PostedCreditsUploadForm(
        request.POST or None, request.FILES or None, initial={"posted_on": timezone.localdate()}
    )
    result, status = upload_apply(
        request,
        form,
        lambda data: importers.posted_credits_import(
            actor=request.user,
            access=access,
            upload=data["file"],
            default_posted_on=data["posted_on"],
        ),
        lambda count: (
            ngettext(
                "The file is applied: %(count)s credit marked transcribed.",
                "The file is applied: %(count)s credits marked transcribed.",
                count,
            )
            % {"count": count}
        ),
    )
    return render(
        request,
        "enrollment/staff/upload.html",
        {
            "form": form,
            "result": result,
            "title": _("Upload posted credits"),
            "back_url": reverse("enrollment:registrar_queue"),
            "back_label": _("Back to the queue"),
            "kind": "posted",
            EXTRA: upload_summary(form, result),
        },
        status=status,
    )
