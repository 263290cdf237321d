"""College registrars (/registrar/): the transcription queue, marking credits
transcribed, undo, and the posted-credits upload."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
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

from ..filters import RegistrarQueueFilter
from ..forms import (
    PostedCreditsUploadForm,
    PostingDateForm,
    TranscribeForm,
    UndoTranscriptionForm,
)
from ..models import (
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
    upload_apply,
)

# --- college registrars -------------------------------------------------------------------------


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
        what=f"transcription queue ({view})",
        student_ids=extra["student_ids"],
        role="registrar",
    )
    if fragment:
        return HttpResponse(content)
    return render(request, "enrollment/staff/registrar_queue.html", {"content": content})


def _registrar_queue_content(request, access, view: str, *, fragment: bool) -> tuple[str, dict]:
    filterset = RegistrarQueueFilter(
        request.GET,
        queryset=registrar.registrar_queue(access=access, view=view),
        college_ids=access.registrar_college_ids,
    )
    tabs = []
    for name in registrar.QUEUE_VIEWS:
        params = request.GET.copy()
        params.pop("page", None)
        params["view"] = name
        tabs.append((name, params.urlencode()))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "view": view, "tabs": tabs, "query": query.urlencode()}
    today = timezone.localdate()
    if view == "ready":
        page = paginate(
            request,
            filterset.qs.order_by(
                "section__academic_year__start_date",
                "student__legal_last_name",
                "student__legal_first_name",
                "pk",
            ),
        )
        rows = list(page.object_list)
        known = registrar.known_college_student_ids(enrollments=rows)
        context.update(
            page=page,
            rows=[
                (
                    e,
                    e.college_student_id
                    or known.get((e.student_id, e.section.articulation.college_id), ""),
                )
                for e in rows
            ],
            date_form=PostingDateForm(initial={"transcribed_on": today}),
        )
        student_ids = [e.student_id for e in rows]
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
    return pagecache.render_content(request, template, context), {"student_ids": student_ids}


@login_required
@require_POST
def registrar_transcribe(request):
    """Mark the ticked enrollments transcribed, each with its college student id."""
    require_capability(request, Capability.TRANSCRIBE)
    form = PostingDateForm(request.POST)
    back = reverse("enrollment:registrar_queue") + "?" + request.POST.get("query", "")
    if not form.is_valid():
        messages.error(request, _("Enter the posting date."))
        return redirect(back)
    items = {}
    for value in request.POST.getlist("enrollment"):
        if value.isdigit():
            items[int(value)] = request.POST.get(f"college_id_{value}", "")
    try:
        count = transcription.enrollments_transcribe(
            actor=request.user,
            college_student_ids=items,
            transcribed_on=form.cleaned_data["transcribed_on"],
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
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
    return redirect(back)


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
        },
        status=status,
    )
