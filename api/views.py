"""College registrars' API tokens (/registrar/api-tokens/): the list, a new token (shown
once), and revoking one. Registrars only (403 for other roles); a token of another
college is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import Capability, access_for

from . import selectors, services
from .forms import ApiTokenForm

TOKENS_PER_PAGE = 25


def _registrar_access(request):
    access = access_for(request.user)
    access.require(Capability.TRANSCRIBE)
    return access


@login_required
@require_GET
def api_tokens(request):
    access = _registrar_access(request)
    page = Paginator(
        selectors.api_tokens_visible(access=access).order_by("-created_at", "-pk"),
        TOKENS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(
        request,
        "api/tokens.html",
        {
            "page": page,
            "tokens": [(token, token.state(now)) for token in page.object_list],
            "several_colleges": len(access.registrar_college_ids) > 1,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_token_new(request):
    access = _registrar_access(request)
    colleges = selectors.api_token_colleges(access=access)
    form = ApiTokenForm(request.POST or None, colleges=colleges)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = services.api_token_create(
                actor=request.user, college=data["college"], label=data["label"], days=data["days"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # Shown in this answer only (no redirect: the secret is kept nowhere to show
            # again); signed-in pages are never cached (Cache-Control: no-store).
            return render(
                request,
                "api/token_created.html",
                {
                    "token": token,
                    "secret": secret,
                    "example_url": request.build_absolute_uri(reverse("api-v1:credits_ready")),
                },
            )
    return render(request, "api/token_new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request, pk: int):
    access = _registrar_access(request)
    token = selectors.api_token_get(access=access, pk=pk)
    if request.method == "POST":
        services.api_token_revoke(actor=request.user, token_id=token.pk)
        messages.success(
            request,
            _("The token “%(label)s” is revoked: calls with it are refused from now on.")
            % {"label": token.label},
        )
        return redirect("api:tokens")
    return render(request, "api/token_revoke.html", {"token": token, "state": token.state()})
