"""Reading agreements from CSV or XLSX files, and the template people fill in.

One row is one version of one agreement, matched on its natural key
(agreement_number, version). Lists inside a cell are separated by semicolons.
Nothing here writes: `plan_import` checks every row and says what would change;
`services.bulk_import.articulation_import` writes the plan in one transaction.
"""

import csv
import io
import re
from dataclasses import dataclass, field, replace
from zipfile import BadZipFile

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from accounts.models import User
from organisations.grades import GradeScale
from sers.uploads import cell_text

from .models import Articulation
from .terms import AGREEMENT_NUMBER_RE, AgreementTerms, TermsContext, terms_validate

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    help: str
    example: str


COLUMNS: list[Column] = [
    Column(
        "agreement_number",
        True,
        gettext_lazy("The agreement's number, shared by all its versions."),
        "CC-2026-001",
    ),
    Column(
        "version",
        True,
        gettext_lazy("1 for a new agreement; the next number to revise an approved or active one."),
        "1",
    ),
    Column("college_code", True, gettext_lazy("The college's code in SERS."), "COL1"),
    Column("high_school_course", True, gettext_lazy("High-school course title."), "Accounting 1"),
    Column("cip_code", True, gettext_lazy("Six-digit CIP code, xx.xxxx."), "52.0301"),
    Column("local_code", False, gettext_lazy("The district's own course code."), "CTE-4410"),
    Column(
        "high_schools",
        True,
        gettext_lazy("Building codes of the schools that teach it, separated by ;."),
        "HS00001; HS00002",
    ),
    Column(
        "college_courses",
        True,
        gettext_lazy("College courses from the college's catalog, such as ACCT 101; ACCT 102."),
        "ACCT 101",
    ),
    Column("cluster", True, gettext_lazy("Career cluster code or name."), "Finance"),
    Column("minimum_grade_scale", True, gettext_lazy("letter, points or percent."), "letter"),
    Column("minimum_grade", True, gettext_lazy("For example B, 3.0 or 85."), "B"),
    Column(
        "valid_years",
        True,
        gettext_lazy("School years it is valid for, separated by ;."),
        "2026-27",
    ),
    Column(
        "competencies",
        False,
        gettext_lazy("Competencies, separated by | or one per line."),
        "Post journal entries | Prepare a balance sheet",
    ),
    Column(
        "teachers",
        False,
        gettext_lazy("Emails of qualified teachers who already have an account, separated by ;."),
        "",
    ),
    Column(
        "renew_each_year",
        False,
        gettext_lazy("yes (the default) or no: include in the annual roll-over."),
        "yes",
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
}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
COURSE_RE = re.compile(r"^([A-Za-z&]{2,8})\s*([0-9A-Za-z]{1,8})$")


@dataclass
class RawRow:
    line: int
    values: dict[str, str]


def _read_csv(content: bytes) -> tuple[list[tuple[int, list[str]]], str | None]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return [], _("The file is not readable text. Save it as CSV UTF-8 and try again.")
    reader = csv.reader(io.StringIO(text, newline=""))
    records = []
    start = 1
    try:
        for record in reader:
            records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as error:
        return [], _("Line %(line)s: the CSV is malformed (%(error)s).") % {
            "line": reader.line_num,
            "error": error,
        }
    return records, None


def _read_xlsx(content: bytes) -> tuple[list[tuple[int, list[str]]], str | None]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError):
        return [], _("The file is not a readable Excel workbook (.xlsx).")
    try:
        sheet = (
            workbook["Agreements"]
            if "Agreements" in workbook.sheetnames
            else workbook.worksheets[0]
        )
        records = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            records.append((number, [cell_text(value) for value in row]))
            if number > MAX_ROWS + 1:
                break
    finally:
        workbook.close()
    return records, None


def parse_file(*, filename: str, content: bytes) -> tuple[list[RawRow], list[tuple[int, str]]]:
    """The file's rows with their line numbers, and any problem with the file as a whole."""
    name = filename.lower()
    if len(content) > MAX_BYTES:
        return [], [(0, _("The file is larger than 5 MB. Split it into smaller files."))]
    if name.endswith(".csv"):
        records, error = _read_csv(content)
    elif name.endswith(".xlsx"):
        records, error = _read_xlsx(content)
    else:
        return [], [(0, _("Upload a .csv or .xlsx file."))]
    if error:
        return [], [(0, error)]
    records = [(line, cells) for line, cells in records if any(c.strip() for c in cells)]
    if not records:
        return [], [(0, _("The file is empty."))]
    header_line, header = records[0]
    names = [cell.strip().lower().replace(" ", "_") for cell in header]
    problems: list[tuple[int, str]] = []
    missing = [name for name in COLUMN_NAMES if name in REQUIRED and name not in names]
    unknown = [name for name in names if name and name not in COLUMN_NAMES]
    if missing:
        problems.append(
            (header_line, _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
        )
    if unknown:
        problems.append(
            (header_line, _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)})
        )
    if problems:
        return [], problems
    if len(records) - 1 > MAX_ROWS:
        return [], [(0, _("The file has more than %(max)s rows.") % {"max": MAX_ROWS})]
    rows = []
    for line, cells in records[1:]:
        values = dict.fromkeys(COLUMN_NAMES, "")
        for name, cell in zip(names, cells, strict=False):
            if name:
                values[name] = cell.strip()
        rows.append(RawRow(line, values))
    return rows, []


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
        if problems:
            plan.problems += [(row.line, message) for message in problems]
            continue
        if current is not None:
            current_terms = AgreementTerms.of(current)
            if not terms.local_code:
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
    return plan


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
