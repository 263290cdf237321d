from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import services
from .forms import PublicTeacherNamesForm, QueuedPasswordResetForm, TeacherActivationForm
from .models import User
from .permissions import Capability, access_for


@never_cache
def healthz(request):
    """Liveness and database check for the load balancer; also the trivial benchmark view."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm


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
            return redirect("login")
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
