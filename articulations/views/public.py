"""Public pages: search active agreements, read one, print a school's catalog. No login."""

import csv

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from accounts.permissions import Capability, access_for
from organisations.clusters import cluster_name
from organisations.models import AcademicYear, HighSchool
from organisations.selectors import academic_year_current, policy_for

from ..cache import cache_get, cache_set, search_cache_key
from ..filters import ArticulationSearchFilter
from ..selectors import (
    articulation_active_version_of,
    articulation_public_get,
    articulation_search,
    articulations_visible,
    school_catalog,
    teaching_schools,
)
from ..tables import ArticulationSearchTable

PER_PAGE = 25


def year_from(request) -> AcademicYear | None:
    """The school year asked for (?year=2026-27), else the current one."""
    code = request.GET.get("year", "").strip()
    if code:
        year = AcademicYear.objects.filter(code=code).first()
        if year is not None:
            return year
    return academic_year_current()


def _search(request):
    year = year_from(request)
    data = request.GET.copy()
    if year is not None:
        data["year"] = year.code  # an unknown year falls back to the current one
    filterset = ArticulationSearchFilter(data, queryset=articulation_search(year=year))
    return year, filterset


def wants_fragment(request) -> bool:
    """An HTMX request from the page itself (not a history restore, which needs it all)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
def search(request):
    """Active agreements for a school year, filtered by place, college, cluster and text.

    The form and the results are the same for everyone who asks the same URL on the same
    day, so they are rendered once and kept in the cache until the catalog changes
    (articulations/cache.py); the page around them (menu, CSP nonce) is rendered per request.
    """
    fragment = wants_fragment(request)
    key = search_cache_key(
        request,
        parts=(fragment, bool(request.htmx), get_language(), timezone.localdate()),
    )
    body = cache_get(key)
    if body is not None:
        body = mark_safe(body)  # noqa: S308 - our own rendered template, from our cache
    else:
        year, filterset = _search(request)
        table = ArticulationSearchTable(filterset.qs, year=year)
        RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
        context = {"filter": filterset, "table": table, "year": year}
        template = "articulations/partials/search_body.html"
        if fragment:
            template = "articulations/partials/search_results.html"
        body = render_to_string(template, context, request=request)
        cache_set(key, body)
    if fragment:
        response = HttpResponse(body)
    else:
        response = render(request, "articulations/search.html", {"body": body})
    patch_vary_headers(response, ["HX-Request"])
    return response


def _csv_safe(value) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
def search_csv(request):
    """The current search results (every page) as a CSV file."""
    year, filterset = _search(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"dual-credit-classes-{year.code if year else 'none'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # Excel reads the file as UTF-8 with this mark
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Agreement"),
            _("Version"),
            _("High-school course"),
            _("CIP code"),
            _("Local code"),
            _("Schools"),
            _("College courses"),
            _("Credits"),
            _("Minimum grade"),
            _("Career cluster"),
            _("College"),
            _("School year"),
        ]
    )
    for articulation in filterset.qs.iterator(chunk_size=500):
        writer.writerow(
            _csv_safe(value)
            for value in [
                articulation.agreement_number,
                articulation.version,
                articulation.high_school_course.title,
                articulation.high_school_course.cip_code,
                articulation.high_school_course.local_code,
                "; ".join(s.name for s in articulation.high_schools.all()),
                "; ".join(f"{c.code} {c.title}" for c in articulation.college_courses.all()),
                articulation.credits,
                articulation.minimum_grade_display,
                cluster_name(articulation.cluster.name),
                articulation.college.name,
                year.code if year else "",
            ]
        )
    return response


@require_GET
def detail(request, pk: int):
    """Both sides of one active agreement. Older versions' links lead to the current one."""
    articulation = articulation_public_get(pk=pk)
    if articulation is None:
        current = articulation_active_version_of(pk=pk)
        if current is None:
            raise Http404
        return redirect("articulations:detail", pk=current.pk)
    access = access_for(request.user)
    may_manage = (
        access.can(Capability.VIEW_ARTICULATION_WORK)
        and articulations_visible(access=access).filter(pk=pk).exists()
    )
    return render(
        request,
        "articulations/detail.html",
        {
            "articulation": articulation,
            "teaching": teaching_schools(articulation=articulation),
            "show_teacher_names": articulation.consortium.show_teacher_names_publicly,
            "may_manage": may_manage,
            "year": year_from(request),
        },
    )


@require_GET
def catalog(request, pk: int):
    """All dual-credit classes at one high school or skills center in a year, printable."""
    school = get_object_or_404(HighSchool.objects.select_related("district__consortium"), pk=pk)
    year = year_from(request)
    consortium = school.district.consortium
    policy = policy_for(consortium_id=consortium.pk, academic_year_id=year.pk) if year else None
    return render(
        request,
        "articulations/catalog.html",
        {
            "school": school,
            "consortium": consortium,
            "year": year,
            "years": AcademicYear.objects.order_by("-start_date"),
            "entries": school_catalog(high_school=school, year=year),
            "policy": policy,
            "show_teacher_names": consortium.show_teacher_names_publicly,
        },
    )
