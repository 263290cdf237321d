"""Agreements imported from a CSV or XLSX file (the columns and the checks: importers.py):
every row checked first, then all or nothing.

Idempotent: importing the same file again changes nothing.
"""

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sers import bulk

from ..importers import parse_file, plan_import
from ..models import Articulation, ArticulationStatusChange, HighSchoolCourse, TeacherQualification
from ..terms import TermsContext
from .access import require_manager
from .drafts import articulation_create, articulation_revise, articulation_update

logger = logging.getLogger(__name__)

S = Articulation.Status


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notices: list[str] = field(default_factory=list)  # columns ignored, courses added...


class ImportRejected(Exception):
    """The file had problems; nothing was written. `problems` are (line, message) pairs;
    `notices` what the file's reading noticed (columns ignored)."""

    def __init__(self, problems: list[tuple[int, str]], notices: list[str] | None = None):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
        self.notices = notices or []


def articulation_import(
    *, actor, consortium_id: int, filename: str, content: bytes
) -> ImportResult:
    """Import agreements from a CSV or XLSX file: every row checked first, then all or nothing.

    Rows are matched on (agreement_number, version), see importers.py for the columns.
    A new row becomes a draft (version 2+ is a revision of the version before it); a row
    matching a draft updates it when different; a row matching a version that is further
    along must be identical (to change it, import the next version). Identical rows
    change nothing, so importing the same file again changes nothing.
    """
    require_manager(actor, consortium_id)
    rows, problems, notices = parse_file(filename=filename, content=content)
    context = TermsContext.load(consortium_id)
    plan = plan_import(context=context, rows=rows)
    problems = sorted(problems + plan.problems, key=lambda problem: problem[0])
    if problems:
        raise ImportRejected(problems, notices)
    result = ImportResult(unchanged=len(plan.unchanged), notices=notices + plan.notices)
    note = _("Imported from %(file)s.") % {"file": filename[:100]}
    new_agreements = [i for i in plan.writes if i.existing is None and i.version == 1]
    with transaction.atomic():
        _import_create_drafts(actor, consortium_id, new_agreements, note)
        result.created += len(new_agreements)
        for item in plan.writes:
            if item.existing is None and item.version == 1:
                continue
            try:
                _import_write(actor, consortium_id, item, context, note)
            except ValidationError as error:
                # Rolls the whole file back; rows are checked first, so this is rare.
                raise ImportRejected([(item.line, m) for m in error.messages], notices) from None
            if item.existing is not None:
                result.updated += 1
            else:
                result.created += 1
    logger.info(
        "articulations imported: consortium_id=%s created=%s updated=%s unchanged=%s by user_id=%s",
        consortium_id,
        result.created,
        result.updated,
        result.unchanged,
        actor.pk,
    )
    return result


def _import_write(actor, consortium_id: int, item, context: TermsContext, note: str) -> None:
    if item.existing is not None:
        articulation_update(
            articulation_id=item.existing.pk, actor=actor, terms=item.terms, context=context
        )
    elif item.version == 1:
        articulation_create(
            actor=actor,
            consortium_id=consortium_id,
            terms=item.terms,
            agreement_number=item.agreement_number,
            note=note,
            context=context,
        )
    else:
        previous = Articulation.objects.get(
            agreement_number=item.agreement_number, version=item.version - 1
        )
        revision = articulation_revise(articulation_id=previous.pk, actor=actor)
        if revision.version != item.version:
            raise ValidationError(_("Versions must follow each other without gaps."))
        articulation_update(
            articulation_id=revision.pk, actor=actor, terms=item.terms, context=context
        )


def _import_create_drafts(actor, consortium_id: int, items: list, note: str) -> None:
    """New agreements (version 1, draft) from a checked file, in a fixed number of queries.

    Does what articulation_create does for each row, in bulk: a file of thousands of
    agreements is written in seconds, still in the caller's single transaction.
    """
    if not items:
        return
    local_codes: dict[tuple[str, str], str] = {}
    for item in items:
        key = (item.terms.high_school_course_title, item.terms.cip_code)
        if item.terms.local_code:
            local_codes.setdefault(key, item.terms.local_code)
        else:
            local_codes.setdefault(key, "")

    def course_map() -> dict[tuple[str, str], HighSchoolCourse]:
        return {
            (c.title, c.cip_code): c
            for c in HighSchoolCourse.objects.filter(
                consortium_id=consortium_id, title__in={title for title, _cip in local_codes}
            )
        }

    courses = course_map()
    bulk.bulk_create(
        HighSchoolCourse,
        [
            HighSchoolCourse(
                consortium_id=consortium_id, title=title, cip_code=cip, local_code=code
            )
            for (title, cip), code in local_codes.items()
            if (title, cip) not in courses
        ],
    )
    for key, course in courses.items():
        # Only the courses of the file: a title may also be there under another CIP code.
        if local_codes.get(key) and course.local_code != local_codes[key]:
            course.local_code = local_codes[key]
            course.save(update_fields=["local_code"])
    courses = course_map()
    bulk.bulk_create(
        Articulation,
        [
            Articulation(
                consortium_id=consortium_id,
                agreement_number=item.agreement_number,
                version=1,
                status=S.DRAFT,
                college_id=item.terms.college_id,
                high_school_course=courses[
                    (item.terms.high_school_course_title, item.terms.cip_code)
                ],
                cluster_id=item.terms.cluster_id,
                minimum_grade_scale=item.terms.minimum_grade_scale,
                minimum_grade=item.terms.minimum_grade,
                competencies=item.terms.competencies,
                renew_each_year=item.terms.renew_each_year,
            )
            for item in items
        ],
    )
    ids = dict(
        Articulation.objects.filter(
            agreement_number__in=[item.agreement_number for item in items], version=1
        ).values_list("agreement_number", "pk")
    )
    relations = (
        (Articulation.high_schools.through, "highschool_id", "high_school_ids"),
        (Articulation.college_courses.through, "collegecourse_id", "college_course_ids"),
        (Articulation.valid_years.through, "academicyear_id", "valid_year_ids"),
    )
    for through, column, attribute in relations:
        bulk.bulk_create(
            through,
            [
                through(articulation_id=ids[item.agreement_number], **{column: value})
                for item in items
                for value in sorted(getattr(item.terms, attribute))
            ],
        )
    TeacherQualification.objects.bulk_create(
        TeacherQualification(articulation_id=ids[item.agreement_number], teacher_id=teacher_id)
        for item in items
        for teacher_id in sorted(item.terms.teacher_ids)
    )
    ArticulationStatusChange.objects.bulk_create(
        ArticulationStatusChange(
            articulation_id=ids[item.agreement_number],
            from_status="",
            to_status=S.DRAFT,
            changed_by=actor,
            note=note,
        )
        for item in items
    )
