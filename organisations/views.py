"""Consortium pages: the policy of each school year, public settings, and the
consortium's teachers (invitations, activation, schools, deactivation)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role, RoleMembership, User
from accounts.permissions import Capability, access_for, get_in_scope

from . import services
from .forms import (
    ConsortiumPolicyForm,
    PaymentInstructionsForm,
    PublicTeacherNamesForm,
    TeacherActivationForm,
    TeacherDeactivateForm,
    TeacherInvitationForm,
    TeacherSchoolForm,
    add_errors,
)
from .models import AcademicYear, Consortium, ConsortiumPolicy, HighSchool


def _next_url(request, fallback: str) -> str:
    """The page to go back to after a small POST, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


@sensitive_post_parameters()
@never_cache
def teacher_activate(request, uidb64: str, token: str):
    """An invited teacher opens their link and chooses a password; the account turns active."""
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    valid = (
        user is not None
        and services.teacher_invitation_pending(user)
        and services.teacher_activation_token.check_token(user, token)
    )
    if not valid:
        return render(request, "registration/teacher_activate.html", {"validlink": False})
    form = TeacherActivationForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.teacher_activate(user_id=user.pk, password=form.cleaned_data["new_password1"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your account is active. Sign in with your new password."))
            return redirect("accounts:login")
    return render(
        request,
        "registration/teacher_activate.html",
        {"validlink": True, "form": form, "invited_email": user.email},
    )


@login_required
@require_POST
def teacher_invitation_resend(request, user_id: int):
    access_for(request.user).require(Capability.MANAGE_TEACHERS)
    try:
        services.teacher_invitation_resend(actor=request.user, user_id=user_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("A new activation link is on its way to the teacher."))
    return redirect(_next_url(request, "home"))


@login_required
@require_POST
def consortium_public_settings(request, pk: int):
    """Whether the consortium's public pages name its teachers."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_POLICY)
    if pk not in access.consortium_ids:
        raise Http404
    form = PublicTeacherNamesForm(request.POST)
    form.is_valid()  # a single optional checkbox: always valid
    consortium = services.consortium_set_public_teacher_names(
        actor=request.user,
        consortium_id=pk,
        show=form.cleaned_data.get("show_teacher_names_publicly", False),
    )
    if consortium.show_teacher_names_publicly:
        messages.success(request, _("Teacher names now show on your public pages."))
    else:
        messages.success(request, _("Teacher names no longer show on your public pages."))
    return redirect(_next_url(request, "home"))


# --- consortium admins: policy per school year, and teachers ----------------------------------


def _policy_years():
    return AcademicYear.objects.order_by("-start_date")


@login_required
@require_GET
def consortium_policies(request):
    """Each consortium's policy for each school year, or that it is not set up yet."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_POLICY)
    consortia = list(Consortium.objects.filter(pk__in=access.consortium_ids).order_by("name"))
    years = list(_policy_years()[:6])
    policies = {
        (p.consortium_id, p.academic_year_id): p
        for p in ConsortiumPolicy.objects.filter(consortium__in=consortia, academic_year__in=years)
    }
    rows = [
        (consortium, [(year, policies.get((consortium.pk, year.pk))) for year in years])
        for consortium in consortia
    ]
    return render(request, "organisations/policies.html", {"rows": rows})


def _policy_initial(consortium_id: int, year: AcademicYear) -> dict:
    """A new year starts from the consortium's previous policy, moved forward a year."""
    previous = (
        ConsortiumPolicy.objects.filter(
            consortium_id=consortium_id, academic_year__start_date__lt=year.start_date
        )
        .order_by("-academic_year__start_date")
        .first()
    )
    if previous is None:
        return {}

    def shift(day):
        try:
            return day.replace(
                year=day.year + (year.start_date.year - previous.academic_year.start_date.year)
            )
        except ValueError:  # February 29
            return day.replace(day=28, year=day.year + 1)

    initial = {name: getattr(previous, name) for name in ConsortiumPolicy.EDITABLE_FIELDS}
    for name in (
        "registration_opens",
        "registration_closes",
        "payment_deadline",
        "grading_deadline",
    ):
        initial[name] = shift(initial[name])
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def consortium_policy_edit(request, consortium_id: int, year: str):
    access = access_for(request.user)
    access.require(Capability.MANAGE_POLICY)
    if consortium_id not in access.consortium_ids:
        raise Http404
    consortium = Consortium.objects.get(pk=consortium_id)
    academic_year = AcademicYear.objects.filter(code=year).first()
    if academic_year is None:
        raise Http404
    policy = ConsortiumPolicy.objects.filter(
        consortium=consortium, academic_year=academic_year
    ).first()
    form = ConsortiumPolicyForm(
        request.POST or None,
        instance=policy,
        initial=None if policy else _policy_initial(consortium.pk, academic_year),
    )
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in ConsortiumPolicy.EDITABLE_FIELDS}
        try:
            _saved, changes = services.consortium_policy_save(
                actor=request.user,
                consortium_id=consortium.pk,
                academic_year_id=academic_year.pk,
                **values,
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            if changes:
                messages.success(request, _("The policy is saved and applies from now on."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect(
                "organisations:consortium_policy_edit", consortium_id=consortium.pk, year=year
            )
    return render(
        request,
        "organisations/policy_form.html",
        {
            "consortium": consortium,
            "year": academic_year,
            "form": form,
            "policy": policy,
            "history": services.object_history(policy) if policy else [],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def consortium_payment_instructions(request, consortium_id: int):
    """The consortium's fee instructions, in English and in Spanish."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_POLICY)
    if consortium_id not in access.consortium_ids:
        raise Http404
    consortium = Consortium.objects.get(pk=consortium_id)
    form = PaymentInstructionsForm(
        request.POST or None,
        initial={
            "english": consortium.payment_instructions,
            "spanish": consortium.payment_instructions_es,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            _saved, changed = services.consortium_payment_instructions_save(
                actor=request.user,
                consortium_id=consortium.pk,
                english=form.cleaned_data["english"],
                spanish=form.cleaned_data["spanish"],
            )
        except ValidationError as error:
            fields = {"payment_instructions": "english", "payment_instructions_es": "spanish"}
            for name, errors in error.message_dict.items():
                form.add_error(fields.get(name), errors)
        else:
            if changed:
                messages.success(
                    request, _("The fee instructions are saved. Students see them now.")
                )
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("organisations:consortium_payment_instructions", consortium.pk)
    return render(
        request,
        "organisations/payment_instructions.html",
        {
            "consortium": consortium,
            "form": form,
            "history": services.object_history(consortium),
        },
        status=400 if form.errors else 200,
    )


def _teacher_schools(access):
    return HighSchool.objects.filter(district__consortium_id__in=access.consortium_ids).order_by(
        "name"
    )


@login_required
@require_GET
def consortium_teachers(request):
    """The consortium's teachers: where they teach and whether their account is active."""
    return _teachers_page(request)


def _teachers_page(request, *, invite_form=None, status=200):
    access = access_for(request.user)
    access.require(Capability.MANAGE_TEACHERS)
    schools = _teacher_schools(access)
    teachers = services.consortium_teachers(actor=request.user).prefetch_related(
        Prefetch(
            "memberships",
            queryset=RoleMembership.objects.filter(
                role=Role.TEACHER, high_school__district__consortium_id__in=access.consortium_ids
            ).select_related("high_school"),
            to_attr="teacher_memberships",
        )
    )
    page = Paginator(teachers, 50).get_page(request.GET.get("page"))
    rows = [
        {
            "user": user,
            "schools": [m.high_school for m in user.teacher_memberships],
        }
        for user in page.object_list
    ]
    return render(
        request,
        "organisations/teachers.html",
        {
            "page": page,
            "rows": rows,
            "invite_form": invite_form or TeacherInvitationForm(high_schools=schools),
        },
        status=status,
    )


@login_required
@require_POST
def consortium_teacher_invite(request):
    access = access_for(request.user)
    access.require(Capability.MANAGE_TEACHERS)
    form = TeacherInvitationForm(request.POST, high_schools=_teacher_schools(access))
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = services.teacher_invite(
                actor=request.user,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                high_school_id=data["high_school"].pk,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The teacher is invited and gets an activation link."))
            return redirect("organisations:consortium_teacher", user_id=user.pk)
    # Each box says what is wrong with it, beside what was typed.
    return _teachers_page(request, invite_form=form, status=400)


def _teacher_page(request, user_id: int, *, deactivate_form=None, school_form=None, status=200):
    access = access_for(request.user)
    access.require(Capability.MANAGE_TEACHERS)
    teacher = get_in_scope(services.consortium_teachers(actor=request.user), Q(), pk=user_id)
    memberships = RoleMembership.objects.filter(
        user=teacher,
        role=Role.TEACHER,
        high_school__district__consortium_id__in=access.consortium_ids,
    ).select_related("high_school")
    schools = _teacher_schools(access).exclude(pk__in=[m.high_school_id for m in memberships])
    return render(
        request,
        "organisations/teacher.html",
        {
            "teacher": teacher,
            "memberships": memberships,
            "invited": services.teacher_invitation_pending(teacher),
            "deactivate_form": deactivate_form or TeacherDeactivateForm(),
            "school_form": school_form or TeacherSchoolForm(high_schools=schools),
            "history": services.object_history(teacher),
        },
        status=status,
    )


@login_required
@require_GET
def consortium_teacher(request, user_id: int):
    return _teacher_page(request, user_id)


@login_required
@require_POST
def consortium_teacher_deactivate(request, user_id: int):
    access_for(request.user).require(Capability.MANAGE_TEACHERS)
    form = TeacherDeactivateForm(request.POST)
    if not form.is_valid():
        return _teacher_page(request, user_id, deactivate_form=form, status=400)
    try:
        services.teacher_deactivate(
            actor=request.user, user_id=user_id, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The account is deactivated and signed out. Its classes take no registrations."),
        )
    return redirect("organisations:consortium_teacher", user_id=user_id)


@login_required
@require_POST
def consortium_teacher_activate(request, user_id: int):
    access_for(request.user).require(Capability.MANAGE_TEACHERS)
    try:
        services.teacher_reactivate(actor=request.user, user_id=user_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The account is active again."))
    return redirect("organisations:consortium_teacher", user_id=user_id)


@login_required
@require_POST
def consortium_teacher_school_add(request, user_id: int):
    access = access_for(request.user)
    access.require(Capability.MANAGE_TEACHERS)
    form = TeacherSchoolForm(request.POST, high_schools=_teacher_schools(access))
    if not form.is_valid():
        return _teacher_page(request, user_id, school_form=form, status=400)
    try:
        services.teacher_school_add(
            actor=request.user, user_id=user_id, high_school_id=form.cleaned_data["high_school"].pk
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The school is added."))
    return redirect("organisations:consortium_teacher", user_id=user_id)


@login_required
@require_POST
def consortium_teacher_school_remove(request, user_id: int, school_id: int):
    access_for(request.user).require(Capability.MANAGE_TEACHERS)
    try:
        services.teacher_school_remove(
            actor=request.user, user_id=user_id, high_school_id=school_id
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The school is removed from the teacher's list."))
    return redirect("organisations:consortium_teacher", user_id=user_id)
