"""The schools' class lists (/class-lists/): uploading a high school's OneRoster export,
and mapping its classes to SERS classes. Career specialists and district staff for
their schools; teachers for their own classes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.permissions import Capability
from enrollment.selectors import oneroster as selectors
from sers.templatetags.sers_ui import EXTRA, field_item

from ..forms import SisUploadForm
from ..oneroster.spec import FILE_NAMES
from ..services import oneroster as services
from .common import error_text, require_capability

PROBLEMS_SHOWN = 200  # on the page; the count says how many more


@login_required
@require_http_methods(["GET", "POST"])
def sis_imports(request):
    """The latest uploads, and the form to upload a school's export."""
    access = require_capability(request, Capability.IMPORT_SIS_ROSTERS)
    schools = selectors.upload_schools(access=access)
    form = SisUploadForm(request.POST or None, request.FILES or None, schools=schools)
    problems, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            outcome = services.sis_import_create(
                actor=request.user,
                high_school_id=form.cleaned_data["high_school"].pk,
                files=form.cleaned_data["files"],
            )
            if outcome.ok:
                imported = outcome.sis_import
                messages.success(
                    request,
                    _(
                        "The class lists are imported: %(classes)s classes, %(students)s "
                        "students. Now confirm which SERS class each one is."
                    )
                    % {"classes": imported.classes_count, "students": imported.students_count},
                )
                return redirect("enrollment:sis_mapping", pk=imported.pk)
            problems = outcome.problems
            messages.error(
                request,
                _(
                    "Nothing was imported: fix the problems listed below and upload the "
                    "export again."
                ),
            )
    return render(
        request,
        "enrollment/staff/sis_imports.html",
        {
            "form": form,
            "imports": selectors.recent_imports(access=access),
            "problems": problems,
            "shown": problems.ordered(FILE_NAMES)[:PROBLEMS_SHOWN] if problems else [],
            "not_shown": max(0, problems.total - PROBLEMS_SHOWN) if problems else 0,
            EXTRA: [
                field_item(
                    form["files"],
                    ngettext(
                        "%(count)s problem to fix. Correct it (listed below), then upload "
                        "the export again.",
                        "%(count)s problems to fix. Correct them (listed below), then upload "
                        "the export again.",
                        problems.total,
                    )
                    % {"count": problems.total},
                )
            ]
            if problems
            else [],
        },
        status=status,
    )


def _decisions(post) -> dict[int, str]:
    decisions = {}
    for key, value in post.items():
        suffix = key.removeprefix("class_")
        if key.startswith("class_") and suffix.isdigit() and len(suffix) < 19:
            decisions[int(suffix)] = value
    return decisions


@login_required
@require_http_methods(["GET", "POST"])
def sis_mapping(request, pk: int):
    """An import's classes, each with the SERS class it is (suggested the first time):
    confirm, change or skip each one."""
    access = require_capability(request, Capability.IMPORT_SIS_ROSTERS)
    sis_import = selectors.sis_import(access=access, import_id=pk)
    status = 200
    if request.method == "POST":
        try:
            count = services.sis_mappings_save(
                actor=request.user, import_id=sis_import.pk, decisions=_decisions(request.POST)
            )
        except ValidationError as error:
            messages.error(request, error_text(error))
            status = 400
        else:
            messages.success(
                request,
                ngettext("%(count)s class mapping saved.", "%(count)s class mappings saved.", count)
                % {"count": count},
            )
            return redirect("enrollment:sis_mapping", pk=sis_import.pk)
    page = selectors.mapping_page(sis_import=sis_import)
    show_all = request.GET.get("all") == "1"
    rows = page.rows if show_all else [r for r in page.rows if r.mapping or r.suggestion]
    return render(
        request,
        "enrollment/staff/sis_mapping.html",
        {
            "sis_import": sis_import,
            "page": page,
            "rows": rows,
            "hidden": len(page.rows) - len(rows),
            "show_all": show_all,
        },
        status=status,
    )
