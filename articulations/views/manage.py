"""Staff pages: the agreements in a user's scope, their lifecycle, teachers and courses.

Each view: check the capability (403), load the object inside the user's scope (404),
call one service, then redirect with a message or show the form with its errors.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.permissions import Access, Capability, access_for, articulation_scope, get_in_scope
from organisations.forms import PublicTeacherNamesForm, TeacherInvitationForm
from organisations.models import College, Consortium
from organisations.services import teacher_invitation_pending

from ..filters import ArticulationWorkFilter
from ..forms import AddTeacherForm, ArticulationForm, CollegeCourseForm, StatusChangeForm
from ..models import Articulation, CollegeCourse
from ..selectors import (
    articulation_for_work,
    articulation_history,
    articulation_versions,
    articulation_work_list,
    teacher_school_names,
    teachers_at_schools,
)
from ..services.access import actor_may
from ..services.college_courses import college_course_create, college_course_set_offered
from ..services.drafts import (
    articulation_create,
    articulation_discard_draft,
    articulation_revise,
    articulation_update,
)
from ..services.status import articulation_change_status, transitions_for
from ..services.teachers import (
    articulation_add_teacher,
    articulation_invite_teacher,
    articulation_remove_teacher,
)
from ..tables import ArticulationWorkTable
from .public import wants_fragment

MANAGE = Capability.MANAGE_ARTICULATIONS


def work_access(request) -> Access:
    access = access_for(request.user)
    access.require(Capability.VIEW_ARTICULATION_WORK)
    return access


def managed_scope(access: Access) -> Q:
    """Agreements the user may change: their consortium's."""
    return Q(consortium_id__in=access.consortium_ids)


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, next to the field it names."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def colleges_in_scope(access: Access):
    if access.is_state:
        return College.objects.order_by("name")
    return College.objects.filter(
        Q(consortium_id__in=access.consortium_ids) | Q(pk__in=access.college_ids)
    ).order_by("name")


@login_required
def manage_list(request):
    """Every agreement version in the user's scope, in any status."""
    access = work_access(request)
    filterset = ArticulationWorkFilter(
        request.GET,
        queryset=articulation_work_list(access=access),
        colleges=colleges_in_scope(access),
    )
    table = ArticulationWorkTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    consortia = []
    if access.can(Capability.MANAGE_POLICY):
        consortia = [
            (
                c,
                PublicTeacherNamesForm(
                    initial={"show_teacher_names_publicly": c.show_teacher_names_publicly}
                ),
            )
            for c in Consortium.objects.filter(pk__in=access.consortium_ids)
        ]
    context = {
        "filter": filterset,
        "table": table,
        "may_manage": access.can(MANAGE),
        "public_settings": consortia,
    }
    template = "articulations/manage/list.html"
    if wants_fragment(request):
        template = "articulations/partials/manage_results.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def manage_detail(request, pk: int):
    """One version: its terms, status, history, versions and what the user may do next."""
    access = work_access(request)
    scope = articulation_scope(access)
    articulation = get_in_scope(
        articulation_for_work(queryset=Articulation.objects.all()), scope, pk=pk
    )
    user = request.user
    teacher_ids = [q.teacher_id for q in articulation.qualifications.all()]
    return render(
        request,
        "articulations/manage/detail.html",
        {
            "articulation": articulation,
            "transitions": [
                (to_status, rule, StatusChangeForm(initial={"to_status": to_status}))
                for to_status, rule in transitions_for(articulation=articulation, actor=user)
            ],
            "may_edit": articulation.is_editable
            and actor_may(actor=user, capability=MANAGE, articulation=articulation),
            "may_revise": articulation.status
            in (Articulation.Status.APPROVED, Articulation.Status.ACTIVE)
            and actor_may(actor=user, capability=MANAGE, articulation=articulation),
            "may_manage_teachers": not articulation.is_closed
            and actor_may(
                actor=user, capability=Capability.MANAGE_TEACHERS, articulation=articulation
            ),
            "pending_revision": Articulation.objects.filter(previous_version=articulation)
            .filter(scope)
            .first(),
            "versions": articulation_versions(articulation=articulation).filter(scope),
            "history": articulation_history(articulation=articulation),
            "teacher_schools": teacher_school_names(
                teacher_ids=teacher_ids,
                high_school_ids=[s.pk for s in articulation.high_schools.all()],
            ),
        },
    )


def _consortium_for_create(request, access: Access) -> Consortium | None:
    consortia = Consortium.objects.filter(pk__in=access.consortium_ids)
    if len(access.consortium_ids) == 1:
        return consortia.first()
    chosen = request.POST.get("consortium") or request.GET.get("consortium")
    if chosen and chosen.isdigit():
        return consortia.filter(pk=int(chosen)).first()
    return None


@login_required
def manage_create(request):
    """A new agreement (version 1, draft) in the user's consortium."""
    access = access_for(request.user)
    access.require(MANAGE)
    consortium = _consortium_for_create(request, access)
    if consortium is None:
        return render(
            request,
            "articulations/manage/choose_consortium.html",
            {"consortia": Consortium.objects.filter(pk__in=access.consortium_ids)},
        )
    form = ArticulationForm(request.POST or None, consortium=consortium)
    if request.method == "POST" and form.is_valid():
        try:
            articulation = articulation_create(
                actor=request.user,
                consortium_id=consortium.pk,
                terms=form.to_terms(),
                agreement_number=form.cleaned_data.get("agreement_number", ""),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Draft %(number)s saved. Submit it for approval when it is complete.")
                % {"number": articulation.agreement_number},
            )
            return redirect("articulations:manage_detail", pk=articulation.pk)
    return render(
        request,
        "articulations/manage/form.html",
        {"form": form, "consortium": consortium, "articulation": None},
    )


@login_required
def manage_edit(request, pk: int):
    """Change a draft's terms."""
    access = access_for(request.user)
    access.require(MANAGE)
    articulation = get_in_scope(
        articulation_for_work(queryset=Articulation.objects.all()), managed_scope(access), pk=pk
    )
    if not articulation.is_editable:
        messages.error(
            request, _("Only drafts can be edited. Start a revision to change this agreement.")
        )
        return redirect("articulations:manage_detail", pk=pk)
    form = ArticulationForm(
        request.POST or None,
        consortium=articulation.consortium,
        with_number=False,
        initial=ArticulationForm.initial_for(articulation),
    )
    if request.method == "POST" and form.is_valid():
        try:
            articulation_update(
                articulation_id=articulation.pk, actor=request.user, terms=form.to_terms()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("articulations:manage_detail", pk=pk)
    return render(
        request,
        "articulations/manage/form.html",
        {"form": form, "consortium": articulation.consortium, "articulation": articulation},
    )


@login_required
@require_POST
def manage_status(request, pk: int):
    """Move an agreement along its lifecycle (the service checks who may make which move)."""
    access = work_access(request)
    articulation = get_in_scope(Articulation.objects.all(), articulation_scope(access), pk=pk)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status change from this page."))
        return redirect("articulations:manage_detail", pk=pk)
    to_status = form.cleaned_data["to_status"]
    try:
        articulation_change_status(
            articulation_id=articulation.pk,
            to_status=to_status,
            actor=request.user,
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The agreement is now %(status)s.")
            % {"status": Articulation.Status(to_status).label.lower()},
        )
    return redirect("articulations:manage_detail", pk=pk)


@login_required
@require_POST
def manage_revise(request, pk: int):
    """Start a new draft version of an approved or active agreement."""
    access = access_for(request.user)
    access.require(MANAGE)
    articulation = get_in_scope(Articulation.objects.all(), managed_scope(access), pk=pk)
    try:
        revision = articulation_revise(articulation_id=articulation.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("articulations:manage_detail", pk=pk)
    messages.success(
        request,
        _(
            "Version %(version)s started as a draft. Version %(old)s stays in force until the "
            "new one is activated."
        )
        % {"version": revision.version, "old": articulation.version},
    )
    return redirect("articulations:manage_edit", pk=revision.pk)


@login_required
@require_POST
def manage_discard(request, pk: int):
    """Delete a draft that never took effect."""
    access = access_for(request.user)
    access.require(MANAGE)
    articulation = get_in_scope(Articulation.objects.all(), managed_scope(access), pk=pk)
    try:
        articulation_discard_draft(articulation_id=articulation.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("articulations:manage_detail", pk=pk)
    messages.success(request, _("The draft was discarded."))
    if articulation.previous_version_id:
        return redirect("articulations:manage_detail", pk=articulation.previous_version_id)
    return redirect("articulations:manage_list")


# ---------------------------------------------------------------------------------------
# Teachers


@login_required
def manage_teachers(request, pk: int):
    """Qualified teachers of an agreement: add one who has an account, or invite a new one."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_TEACHERS)
    articulation = get_in_scope(
        articulation_for_work(queryset=Articulation.objects.all()), managed_scope(access), pk=pk
    )
    schools = articulation.high_schools.all()
    qualified_ids = [q.teacher_id for q in articulation.qualifications.all()]
    add_form = AddTeacherForm(
        teachers=teachers_at_schools(high_school_ids=[s.pk for s in schools]).exclude(
            pk__in=qualified_ids
        )
    )
    invite_form = TeacherInvitationForm(high_schools=articulation.high_schools.order_by("name"))
    if request.method == "POST":
        if articulation.is_closed:
            messages.error(request, _("This agreement is closed; its teachers no longer change."))
            return redirect("articulations:manage_detail", pk=pk)
        action = request.POST.get("action")
        if action == "add":
            add_form = AddTeacherForm(request.POST, teachers=add_form.fields["teacher"].queryset)
            if add_form.is_valid():
                teacher = add_form.cleaned_data["teacher"]
                try:
                    articulation_add_teacher(
                        articulation_id=pk, teacher_id=teacher.pk, actor=request.user
                    )
                except ValidationError as error:
                    add_service_errors(add_form, error)
                else:
                    messages.success(
                        request,
                        _("%(name)s is now qualified for this agreement.")
                        % {"name": teacher.get_full_name() or teacher.email},
                    )
                    return redirect("articulations:manage_teachers", pk=pk)
        elif action == "invite":
            invite_form = TeacherInvitationForm(
                request.POST, high_schools=articulation.high_schools.order_by("name")
            )
            if invite_form.is_valid():
                data = invite_form.cleaned_data
                try:
                    teacher = articulation_invite_teacher(
                        articulation_id=pk,
                        actor=request.user,
                        email=data["email"],
                        first_name=data["first_name"],
                        last_name=data["last_name"],
                        high_school_id=data["high_school"].pk,
                    )
                except ValidationError as error:
                    add_service_errors(invite_form, error)
                else:
                    if teacher_invitation_pending(teacher):
                        messages.success(
                            request,
                            _(
                                "Invitation sent to %(email)s. The teacher's classes take "
                                "registrations once they activate their account."
                            )
                            % {"email": teacher.email},
                        )
                    else:
                        messages.success(
                            request,
                            _("%(email)s already has an active account and is now qualified.")
                            % {"email": teacher.email},
                        )
                    return redirect("articulations:manage_teachers", pk=pk)
        else:
            messages.error(request, _("Choose what to do from this page."))
    return render(
        request,
        "articulations/manage/teachers.html",
        {
            "articulation": articulation,
            "add_form": add_form,
            "invite_form": invite_form,
            "teacher_schools": teacher_school_names(
                teacher_ids=qualified_ids, high_school_ids=[s.pk for s in schools]
            ),
        },
    )


@login_required
@require_POST
def manage_teacher_remove(request, pk: int, teacher_id: int):
    access = access_for(request.user)
    access.require(Capability.MANAGE_TEACHERS)
    articulation = get_in_scope(Articulation.objects.all(), managed_scope(access), pk=pk)
    try:
        removed = articulation_remove_teacher(
            articulation_id=articulation.pk, teacher_id=teacher_id, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if not removed:
            raise Http404
        messages.success(request, _("The teacher was removed from this agreement."))
    return redirect("articulations:manage_teachers", pk=pk)


# ---------------------------------------------------------------------------------------
# College courses


@login_required
def manage_courses(request):
    """The course catalogs of the consortium's colleges: add a course, retire one."""
    access = access_for(request.user)
    access.require(MANAGE)
    colleges = College.objects.filter(consortium_id__in=access.consortium_ids).order_by("name")
    form = CollegeCourseForm(request.POST or None, colleges=colleges)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            course = college_course_create(
                actor=request.user,
                college_id=data["college"].pk,
                prefix=data["prefix"],
                number=data["number"],
                title=data["title"],
                credits=data["credits"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(course)s added.") % {"course": course.code})
            return redirect("articulations:manage_courses")
    courses = (
        CollegeCourse.objects.filter(college__in=colleges)
        .select_related("college")
        .order_by("college__name", "prefix", "number")
    )
    return render(
        request,
        "articulations/manage/courses.html",
        {"form": form, "courses": courses},
    )


@login_required
@require_POST
def manage_course_offered(request, pk: int):
    access = access_for(request.user)
    access.require(MANAGE)
    course = get_in_scope(
        CollegeCourse.objects.all(), Q(college__consortium_id__in=access.consortium_ids), pk=pk
    )
    offered = request.POST.get("offered") == "1"
    college_course_set_offered(actor=request.user, course_id=course.pk, offered=offered)
    if offered:
        messages.success(request, _("%(course)s is offered again.") % {"course": course.code})
    else:
        messages.success(
            request,
            _("%(course)s is retired. Agreements using it lapse at the next roll-over.")
            % {"course": course.code},
        )
    return redirect("articulations:manage_courses")
