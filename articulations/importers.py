"""Reading agreements from CSV or XLSX files, and the template people fill in.

One row is one version of one agreement, matched on its natural key
(agreement_number, version). Lists inside a cell are separated by semicolons.
The file is read by sers.uploads, the reader of every upload, each cell cleaned by its
column's field (the limits of the agreement form). Nothing here writes: `plan_import`
checks every row and says what would change; `services.bulk_import.articulation_import`
writes the plan in one transaction.
"""

import csv
import io
import re
from dataclasses import dataclass, field, replace

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts.models import User
from organisations.grades import GradeScale
from organisations.models import College
from sers.text import TextBlockField, TextLineField
from sers.uploads import check_upload, read_table

from .models import Articulation, HighSchoolCourse
from .terms import (
    AGREEMENT_NUMBER_RE,
    COMPETENCIES_MAX_LENGTH,
    AgreementTerms,
    TermsContext,
    terms_validate,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000


def _line(max_length: int) -> TextLineField:
    return TextLineField(max_length=max_length, required=False)


def _limit(model, name: str) -> TextLineField:
    """A one-line column with the limit of the model field its value is stored in."""
    return _line(model._meta.get_field(name).max_length)


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    help: str
    example: str
    field: forms.Field  # cleans each cell: the limits and text rules of the form


COLUMNS: list[Column] = [
    Column(
        "agreement_number",
        True,
        gettext_lazy("The agreement's number, shared by all its versions."),
        "CC-2026-001",
        _limit(Articulation, "agreement_number"),
    ),
    Column(
        "version",
        True,
        gettext_lazy("1 for a new agreement; the next number to revise an approved or active one."),
        "1",
        _line(3),
    ),
    Column(
        "college_code",
        True,
        gettext_lazy("The college's code in SERS."),
        "COL1",
        _limit(College, "code"),
    ),
    Column(
        "high_school_course",
        True,
        gettext_lazy("High-school course title."),
        "Accounting 1",
        _limit(HighSchoolCourse, "title"),
    ),
    Column(
        "cip_code",
        True,
        gettext_lazy("Six-digit CIP code, xx.xxxx."),
        "52.0301",
        _limit(HighSchoolCourse, "cip_code"),
    ),
    Column(
        "local_code",
        False,
        gettext_lazy("The district's own course code."),
        "CTE-4410",
        _limit(HighSchoolCourse, "local_code"),
    ),
    Column(
        "high_schools",
        True,
        gettext_lazy("Building codes of the schools that teach it, separated by ;."),
        "HS00001; HS00002",
        _line(2000),
    ),
    Column(
        "college_courses",
        True,
        gettext_lazy("College courses from the college's catalog, such as ACCT 101; ACCT 102."),
        "ACCT 101",
        _line(2000),
    ),
    Column("cluster", True, gettext_lazy("Career cluster code or name."), "Finance", _line(200)),
    Column(
        "minimum_grade_scale",
        True,
        gettext_lazy("letter, points or percent."),
        "letter",
        _line(10),
    ),
    Column(
        "minimum_grade",
        True,
        gettext_lazy("For example B, 3.0 or 85."),
        "B",
        _limit(Articulation, "minimum_grade"),
    ),
    Column(
        "valid_years",
        True,
        gettext_lazy("School years it is valid for, separated by ;."),
        "2026-27",
        _line(500),
    ),
    Column(
        "competencies",
        False,
        gettext_lazy("Competencies, separated by | or one per line."),
        "Post journal entries | Prepare a balance sheet",
        TextBlockField(max_length=COMPETENCIES_MAX_LENGTH, required=False),
    ),
    Column(
        "teachers",
        False,
        gettext_lazy("Emails of qualified teachers who already have an account, separated by ;."),
        "",
        _line(5000),
    ),
    Column(
        "renew_each_year",
        False,
        gettext_lazy("yes (the default) or no: include in the annual roll-over."),
        "yes",
        _line(5),
    ),
]
COLUMN_NAMES = [c.name for c in COLUMNS]
REQUIRED = {c.name for c in COLUMNS if c.required}
# Which column a validation message about a terms field belongs to.
FIELD_COLUMNS = {
    "college": "college_code",
    "high_school_course_title": "high_school_course",
    "cip_code": "cip_code",
    "local_code": "local_code",
    "high_schools": "high_schools",
    "college_courses": "college_courses",
    "cluster": "cluster",
    "minimum_grade_scale": "minimum_grade_scale",
    "minimum_grade": "minimum_grade",
    "valid_years": "valid_years",
    "teachers": "teachers",
    "competencies": "competencies",
}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
COURSE_RE = re.compile(r"^([A-Za-z&]{2,8})\s*([0-9A-Za-z]{1,8})$")


@dataclass
class RawRow:
    line: int
    values: dict[str, str]
    bad: frozenset[str] = frozenset()  # columns whose cells were refused (already reported)


def parse_file(
    *, filename: str, content: bytes
) -> tuple[list[RawRow], list[tuple[int, str]], list[str]]:
    """The file's rows with their line numbers and cleaned cells, every problem of the
    file or of a cell as (line, message) (line 0: the file as a whole), and notices such
    as the columns that were ignored."""
    try:
        checked = check_upload(
            SimpleUploadedFile(filename, content), kinds=("csv", "xlsx"), max_bytes=MAX_BYTES
        )
        table = read_table(
            checked,
            fields={c.name: c.field for c in COLUMNS},
            required=[[c.name for c in COLUMNS if c.required]],
            max_rows=MAX_ROWS,
            sheet="Agreements",
        )
    except ValidationError as error:
        return [], [(0, message) for message in error.messages], []
    rows = [
        RawRow(
            row.line,
            {name: row.get(name) for name in COLUMN_NAMES},
            frozenset(p.name for p in row.problems),
        )
        for row in table.rows
    ]
    return rows, [(p.line, str(p)) for p in table.problems], table.notices


@dataclass
class ImportWrite:
    line: int
    agreement_number: str
    version: int
    terms: AgreementTerms
    existing: Articulation | None = None


@dataclass
class ImportPlan:
    writes: list[ImportWrite] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


class _Lookups:
    """Codes and names in a file → ids, from the consortium's context (no queries per row)."""

    def __init__(self, context: TermsContext, rows: list[RawRow]):
        self.context = context
        self.colleges = {c.code.lower(): c for c in context.colleges.values()}
        self.schools = {s.code.lower(): s for s in context.high_schools.values()}
        self.courses = {
            (c.college_id, c.prefix.upper(), c.number.upper()): c
            for c in context.college_courses.values()
        }
        self.clusters: dict[str, int] = {}
        # Names first, then codes, so a code wins over a name that happens to match it.
        for cluster in sorted(context.clusters.values(), key=lambda c: c.framework, reverse=True):
            self.clusters[cluster.name.lower()] = cluster.pk
        for cluster in sorted(context.clusters.values(), key=lambda c: c.framework, reverse=True):
            self.clusters[cluster.code.lower()] = cluster.pk
        self.years = {y.code: y for y in context.years.values()}
        emails = {e.lower() for row in rows for e in _split(row.values["teachers"])}
        self.teachers = {
            email.lower(): pk
            for pk, email in User.objects.filter(
                email__in=emails, pk__in=list(context.teacher_schools)
            ).values_list("pk", "email")
        }

    def terms(self, values: dict[str, str]) -> tuple[AgreementTerms | None, list[str]]:
        problems: list[str] = []
        college = self.colleges.get(values["college_code"].lower())
        if college is None:
            problems.append(
                _("college_code: %(code)s is not a college of this consortium.")
                % {"code": values["college_code"] or "—"}
            )
        school_ids = set()
        for code in _split(values["high_schools"]):
            school = self.schools.get(code.lower())
            if school is None:
                problems.append(
                    _("high_schools: %(code)s is not a school of this consortium.") % {"code": code}
                )
            else:
                school_ids.add(school.pk)
        course_ids = set()
        for entry in _split(values["college_courses"]):
            match = COURSE_RE.match(entry)
            course = None
            if match and college is not None:
                key = (college.pk, match.group(1).upper(), match.group(2).upper())
                course = self.courses.get(key)
            if match is None:
                problems.append(
                    _("college_courses: write each course as prefix and number, like ACCT 101.")
                )
            elif course is None and college is not None:
                problems.append(
                    _("college_courses: %(course)s is not in %(college)s's catalog.")
                    % {"course": entry, "college": college.code}
                )
            elif course is not None:
                course_ids.add(course.pk)
        cluster_id = self.clusters.get(values["cluster"].lower())
        if cluster_id is None:
            problems.append(
                _("cluster: %(cluster)s is not a career cluster.")
                % {"cluster": values["cluster"] or "—"}
            )
        year_ids = set()
        for code in _split(values["valid_years"]):
            year = self.years.get(code)
            if year is None:
                problems.append(
                    _("valid_years: %(year)s is not a school year in SERS.") % {"year": code}
                )
            else:
                year_ids.add(year.pk)
        teacher_ids = set()
        for email in _split(values["teachers"]):
            teacher_id = self.teachers.get(email.lower())
            if teacher_id is None:
                problems.append(
                    _("teachers: %(email)s is not a teacher account in this consortium.")
                    % {"email": email}
                )
            else:
                teacher_ids.add(teacher_id)
        renew = values["renew_each_year"].lower()
        if renew and renew not in YES | NO:
            problems.append(_("renew_each_year: write yes or no."))
        scale = values["minimum_grade_scale"].lower()
        if scale not in GradeScale.values:
            problems.append(_("minimum_grade_scale: write letter, points or percent."))
        if problems:
            return None, problems
        competencies = "\n".join(
            part.strip()
            for part in values["competencies"].replace("|", "\n").splitlines()
            if part.strip()
        )
        terms = AgreementTerms(
            college_id=college.pk,
            high_school_course_title=values["high_school_course"],
            cip_code=values["cip_code"],
            local_code=values["local_code"],
            cluster_id=cluster_id,
            minimum_grade_scale=scale,
            minimum_grade=values["minimum_grade"],
            competencies=competencies,
            renew_each_year=renew not in NO,
            high_school_ids=frozenset(school_ids),
            college_course_ids=frozenset(course_ids),
            valid_year_ids=frozenset(year_ids),
            teacher_ids=frozenset(teacher_ids),
        )
        try:
            return terms_validate(context=self.context, terms=terms), []
        except ValidationError as error:
            return None, [
                f"{FIELD_COLUMNS.get(name, name)}: {message}"
                for name, messages in error.message_dict.items()
                for message in messages
            ]


def _numbers_taken_in_other_case(numbers: set[str]) -> dict[str, str]:
    """Numbers in the file that exist in SERS spelled differently (lower case → existing)."""
    lowered = {number.lower() for number in numbers}
    return {
        number.lower(): number
        for number in Articulation.objects.annotate(lowered=Lower("agreement_number"))
        .filter(lowered__in=lowered)
        .exclude(agreement_number__in=numbers)
        .values_list("agreement_number", flat=True)
    }


def _existing_versions(numbers: set[str]) -> dict[tuple[str, int], Articulation]:
    queryset = (
        Articulation.objects.filter(agreement_number__in=numbers)
        .select_related("high_school_course")
        .prefetch_related("high_schools", "college_courses", "valid_years", "qualifications")
    )
    return {(a.agreement_number, a.version): a for a in queryset}


def plan_import(*, context: TermsContext, rows: list[RawRow]) -> ImportPlan:
    """Check every row and decide, without writing, what each one would do."""
    plan = ImportPlan()
    lookups = _Lookups(context, rows)
    numbers = {row.values["agreement_number"] for row in rows}
    existing = _existing_versions(numbers)
    next_of = {a.previous_version_id for a in existing.values() if a.previous_version_id}
    other_case = _numbers_taken_in_other_case(numbers)
    seen: dict[tuple[str, int], int] = {}
    for row in rows:
        values = row.values
        problems: list[str] = []
        number = values["agreement_number"]
        if not AGREEMENT_NUMBER_RE.match(number):
            problems.append(
                _("agreement_number: use up to 20 letters, digits, dots, dashes or slashes.")
            )
        try:
            version = int(values["version"])
            if not 1 <= version <= 999:
                raise ValueError
        except ValueError:
            problems.append(_("version: write a whole number from 1."))
            version = 0
        if number.lower() in other_case:
            problems.append(
                _("agreement_number: SERS already has this agreement as %(number)s.")
                % {"number": other_case[number.lower()]}
            )
        key = (number.lower(), version)
        if key in seen and version:
            problems.append(
                _("Version %(version)s of %(number)s is also on line %(line)s.")
                % {"version": version, "number": number, "line": seen[key]}
            )
        seen.setdefault(key, row.line)
        terms, term_problems = lookups.terms(values)
        problems += term_problems
        current = existing.get((number, version))
        if current is not None and current.consortium_id != context.consortium.pk:
            problems.append(_("%(number)s belongs to another consortium.") % {"number": number})
        elif current is None and version > 1 and not problems:
            previous = existing.get((number, version - 1))
            if previous is None and (number.lower(), version - 1) in seen:
                problems.append(
                    _(
                        "version: version %(previous)s is new in this file; import it first and "
                        "have it approved, then import version %(version)s."
                    )
                    % {"previous": version - 1, "version": version}
                )
            elif previous is None or previous.consortium_id != context.consortium.pk:
                problems.append(
                    _("version: %(number)s has no version %(previous)s to revise.")
                    % {"number": number, "previous": version - 1}
                )
            elif previous.status not in (Articulation.Status.APPROVED, Articulation.Status.ACTIVE):
                problems.append(
                    _(
                        "version: version %(previous)s is %(status)s; only an approved or active "
                        "version can be revised."
                    )
                    % {"previous": version - 1, "status": previous.get_status_display().lower()}
                )
            elif previous.pk in next_of:
                problems.append(
                    _("version: version %(previous)s already has a newer version.")
                    % {"previous": version - 1}
                )
        elif current is None and version == 1 and any(n == number for n, _v in existing):
            problems.append(
                _("%(number)s already exists; to change it, import its next version.")
                % {"number": number}
            )
        # A refused cell is reported once, by the reader: not again as empty or unknown.
        problems = [m for m in problems if m.split(":", 1)[0] not in row.bad]
        if problems or row.bad:
            plan.problems += [(row.line, message) for message in problems]
            continue
        if current is not None:
            current_terms = AgreementTerms.of(current)
            same_course = (terms.high_school_course_title, terms.cip_code) == (
                current_terms.high_school_course_title,
                current_terms.cip_code,
            )
            if not terms.local_code and same_course:
                # An empty local code keeps the course's (never another course's).
                terms = replace(terms, local_code=current_terms.local_code)
            if terms == current_terms:
                plan.unchanged.append(row.line)
                continue
            if not current.is_editable:
                plan.problems.append(
                    (
                        row.line,
                        _(
                            "Version %(version)s of %(number)s is %(status)s and cannot change; "
                            "to change it, import it as version %(next)s."
                        )
                        % {
                            "version": version,
                            "number": number,
                            "status": current.get_status_display().lower(),
                            "next": version + 1,
                        },
                    )
                )
                continue
        plan.writes.append(ImportWrite(row.line, number, version, terms, current))
    plan.notices = _courses_under_another_cip(context, plan.writes)
    return plan


def _courses_under_another_cip(context: TermsContext, writes: list[ImportWrite]) -> list[str]:
    """A high-school course is its title and CIP code together: a title the consortium
    already has under another CIP code becomes a second course (the agreements of the
    first keep theirs, CIP code unchanged). Say so, naming the line, as the form would show
    both in the list."""
    titles = {write.terms.high_school_course_title for write in writes}
    existing: dict[str, set[str]] = {}
    for title, cip_code in HighSchoolCourse.objects.filter(
        consortium=context.consortium, title__in=titles
    ).values_list("title", "cip_code"):
        existing.setdefault(title, set()).add(cip_code)
    notices = []
    for write in writes:
        title, cip_code = write.terms.high_school_course_title, write.terms.cip_code
        others = sorted(existing.get(title, set()) - {cip_code})
        if others and cip_code not in existing.get(title, set()):
            notices.append(
                _(
                    "Line %(line)s: SERS has the course “%(title)s” with CIP code %(others)s; "
                    "this line adds it as a separate course with CIP code %(cip)s. Those "
                    "agreements keep their CIP code. If the code in the file is a mistake, "
                    "correct it and import the file again."
                )
                % {
                    "line": write.line,
                    "title": title,
                    "others": ", ".join(others),
                    "cip": cip_code,
                }
            )
    return notices


def template_rows(*, context: TermsContext | None) -> list[list[str]]:
    """The header and one example row (using the consortium's own codes when it has them)."""
    example = {c.name: c.example for c in COLUMNS}
    if context is not None:
        college = next(iter(sorted(context.colleges.values(), key=lambda c: c.code)), None)
        if college is not None:
            example["college_code"] = college.code
            course = next(
                (
                    c
                    for c in sorted(context.college_courses.values(), key=lambda c: c.code)
                    if c.college_id == college.pk and c.is_active
                ),
                None,
            )
            if course is not None:
                example["college_courses"] = course.code
        schools = sorted(context.high_schools.values(), key=lambda s: s.code)[:2]
        if schools:
            example["high_schools"] = "; ".join(s.code for s in schools)
        years = sorted(context.years.values(), key=lambda y: y.start_date)
        if years:
            example["valid_years"] = years[-1].code
    return [COLUMN_NAMES, [example[name] for name in COLUMN_NAMES]]


def template_csv(*, context: TermsContext | None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(template_rows(context=context))
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(*, context: TermsContext | None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Agreements"
    for row in template_rows(context=context):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    help_sheet = workbook.create_sheet("Instructions")
    help_sheet.append([str(_("Column")), str(_("Required")), str(_("What to write"))])
    for column in COLUMNS:
        help_sheet.append(
            [column.name, str(_("yes")) if column.required else str(_("no")), str(column.help)]
        )
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
