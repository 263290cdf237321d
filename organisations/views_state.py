"""State staff's pages for the organisations: consortia, colleges, districts and high
schools, listed, created and changed, each with its history (who changed what, when)."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import Access, Capability, access_for

from . import services
from .forms import (
    CollegeForm,
    ConsortiumForm,
    DistrictForm,
    HighSchoolForm,
    OrganisationForm,
    add_errors,
)
from .models import College, Consortium, District, HighSchool
from .selectors import organisations_managed

PER_PAGE = 50


@dataclass(frozen=True)
class Kind:
    """One kind of organisation, as its pages name it."""

    key: str
    model: type[Model]
    form: type[OrganisationForm]
    title: str
    add_label: str
    new_title: str
    created: str


KINDS = {
    kind.key: kind
    for kind in (
        Kind(
            "consortia",
            Consortium,
            ConsortiumForm,
            _("Consortia"),
            _("Add a consortium"),
            _("New consortium"),
            _("The consortium is created."),
        ),
        Kind(
            "colleges",
            College,
            CollegeForm,
            _("Colleges"),
            _("Add a college"),
            _("New college"),
            _("The college is created."),
        ),
        Kind(
            "districts",
            District,
            DistrictForm,
            _("Districts"),
            _("Add a district"),
            _("New district"),
            _("The district is created."),
        ),
        Kind(
            "high-schools",
            HighSchool,
            HighSchoolForm,
            _("High schools"),
            _("Add a high school"),
            _("New high school"),
            _("The high school is created."),
        ),
    )
}


def _kind(request, kind: str) -> tuple[Access, Kind]:
    """403 for anyone but state staff, 404 for a kind that does not exist."""
    access = access_for(request.user)
    access.require(Capability.MANAGE_ORGANIZATIONS)
    found = KINDS.get(kind)
    if found is None:
        raise Http404
    return access, found


def _save(request, kind: Kind, form: OrganisationForm, pk: int | None = None):
    """Save the form's organisation; None when refused (the errors go on the form)."""
    values = {}
    for name in services.ORGANISATION_FIELDS[kind.model]:
        value = form.cleaned_data[name]
        values[name] = list(value) if kind.model._meta.get_field(name).many_to_many else value
    try:
        return services.organisation_save(
            actor=request.user, model=kind.model, values=values, pk=pk
        )
    except ValidationError as error:
        add_errors(form, error)
        return None


def _form_page(request, kind: Kind, form, *, organisation=None):
    return render(
        request,
        "organisations/state/form.html",
        {
            "kind": kind,
            "form": form,
            "organisation": organisation,
            "history": services.object_history(organisation) if organisation else [],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def state_organisations(request, kind: str = "consortia"):
    """The organisations of one kind, statewide, with a search by name or code."""
    access, found = _kind(request, kind)
    query = request.GET.get("q", "").strip()[:100]
    page = Paginator(
        organisations_managed(access=access, model=found.model, query=query), PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "organisations/state/list.html",
        {
            "kinds": KINDS.values(),
            "kind": found,
            "page": page,
            "query": query,
            "page_query": f"q={query}" if query else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def state_organisation_new(request, kind: str):
    _access, found = _kind(request, kind)
    form = found.form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, found, form)
        if saved is not None:
            messages.success(request, found.created)
            return redirect("organisations:state_organisation", kind=found.key, pk=saved[0].pk)
    return _form_page(request, found, form)


@login_required
@require_http_methods(["GET", "POST"])
def state_organisation(request, kind: str, pk: int):
    """One organisation: its form, and the history of its changes."""
    _access, found = _kind(request, kind)
    organisation = get_object_or_404(found.model, pk=pk)
    form = found.form(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, found, form, pk=organisation.pk)
        if saved is not None:
            if saved[1]:
                messages.success(request, _("The changes are saved."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("organisations:state_organisation", kind=found.key, pk=pk)
        organisation.refresh_from_db()
    return _form_page(request, found, form, organisation=organisation)
