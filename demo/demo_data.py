"""A realistic, deterministic (seeded) demo and benchmark dataset for SERS.

`manage.py demo_data` calls `build_demo_data`; `bench/build_state_data.py` runs it at state
size. Everything here is synthetic: place names are invented or generic, people's names are
random combinations of common given names and surnames, and every email address ends in
`sers.example` (a reserved, undeliverable domain). All accounts share one demo password.

The build is bulk: rows are generated as tuples with precomputed primary keys and written
with PostgreSQL COPY (or `bulk_create` with a batch size on other databases, or on request).
That bypasses `enrollment.services.enrollment_change_status`, which is acceptable for a data
loader: every enrollment still gets the status history the service would have written — from
'' to registered, then each allowed step in order, changed by the right person (the student or
a career specialist, the teacher, the college registrar) at strictly increasing times — so the
last history row always matches the enrollment's status, and nothing is dated after "now".
"""

import random
import time
import zoneinfo
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate, batched

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, reset_queries, transaction
from django.db.models import Max, signals
from django.utils import timezone

from accounts.models import Role, RoleMembership, User
from articulations.models import (
    Articulation,
    ArticulationStatusChange,
    CollegeCourse,
    HighSchoolCourse,
    TeacherQualification,
)
from enrollment.models import (
    GRADED_STATUSES,
    Enrollment,
    EnrollmentStatus,
    EnrollmentStatusChange,
    Fee,
    Section,
    StudentProfile,
)
from enrollment.services import luhn_check_digit
from organisations.grades import LETTER_POINTS, PERCENT_LETTER_FLOORS, GradeScale, meets_minimum
from organisations.models import (
    AcademicYear,
    CareerCluster,
    College,
    Consortium,
    ConsortiumPolicy,
    District,
    HighSchool,
)

S = EnrollmentStatus
A = Articulation.Status

DEMO_PASSWORD = "sers-demo-2026"  # noqa: S105 - synthetic, demo only; printed with the logins
DEMO_DOMAIN = "demo.sers.example"
EMAIL_SUFFIX = ".sers.example"  # every generated account's email ends with this
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"  # written last: its presence means "a build finished"
STUDENTS_PER_YEAR = {"small": 300, "state": 60_500}
MIN_STUDENTS = 20

DAY = 86_400.0
HOUR = 3_600.0


# ---------------------------------------------------------------------------------------------
# Synthetic vocabulary
# ---------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


class _Weighted:
    """A weighted choice with its cumulative table computed once."""

    def __init__(self, items: Sequence[tuple[object, float]]):
        self.values = tuple(value for value, _ in items)
        self.cum = tuple(accumulate(weight for _, weight in items))

    def __call__(self, rng: random.Random):
        return self.values[bisect_right(self.cum, rng.random() * self.cum[-1])]


FIRST_NAMES = _words(
    "Aaliyah Abdi Adrian Aiden Alejandro Alexis Amara Amelia Andre Angel Anika Aria Arjun "
    "Ashton Aubrey Avery Bailey Beatriz Bennett Bianca Blake Brielle Caleb Camila Carlos "
    "Carmen Cedric Chloe Darius Daniela Dante Declan Delaney Desmond Diego Eli Elena Elijah "
    "Emerson Emiliano Esme Ezra Fatima Finley Gabriel Gemma Gianna Hana Harper Hector Imani "
    "Isaac Isabela Jalen Jasmine Javier Jaylen Jordan Josiah Julian Kai Kamila Keanu Kendall "
    "Khalil Kiara Leilani Leo Liam Lila Logan Lucia Luis Mai Malia Marcus Mateo Maya Micah "
    "Miguel Mila Nadia Naomi Nia Noah Nolan Omar Paloma Parker Priya Quinn Rafael Reese Riley "
    "Rohan Rosa Rowan Samir Santiago Sofia Soren Tatum Teagan Theo Valentina Wren Xavier "
    "Yara Yusuf Zara Zion"
)
LAST_NAMES = _words(
    "Abbott Acosta Adeyemi Alvarez Andersen Arellano Baker Banerjee Barrera Bell Bergstrom "
    "Bishop Bui Calderon Campbell Castillo Chavez Chen Cho Cruz Dahl Dang Delgado Diaz Do "
    "Duarte Ellison Espinoza Evans Farah Fernandez Fischer Flores Fuentes Garcia Gomez Grant "
    "Gutierrez Hall Hansen Hayes Hernandez Hoang Holm Huang Ibarra Ito Jensen Johansson Kang "
    "Kaur Khan Kim Kowalski Larsen Le Lee Lindqvist Lopez Lund Mahmoud Martinez Medina Mendoza "
    "Mercado Molina Morales Moreno Murphy Nakamura Navarro Nguyen Nielsen Novak Nunez Okafor "
    "Olsen Ortega Ortiz Park Patel Pedersen Pham Quintero Ramirez Ramos Reyes Rios Rivera "
    "Rodriguez Rojas Romero Ruiz Salazar Sanchez Santos Schmidt Shah Silva Singh Sorensen "
    "Soto Suarez Tanaka Tran Trujillo Valdez Vargas Vasquez Vu Wagner Walsh Watanabe Yamamoto "
    "Yang Zamora Zhang"
)
PLACE_A = _words(
    "Alder Aspen Bear Beaver Birch Cedar Clear Copper Cougar Coyote Crane Crystal Deer Eagle "
    "Elk Fern Fir Fox Granite Hawk Hemlock Heron Huckleberry Iron Juniper Kestrel Lupine Maple "
    "Marten Meadow Osprey Otter Pine Quail Raven Salmon Sage Silver Spruce Stone Sunny Timber "
    "Trillium Willow Wolf Larch"
)
PLACE_B = _words(
    "Bay Bluff Creek Crossing Falls Flats Glen Grove Harbor Heights Hollow Lake Landing "
    "Meadows Mill Point Prairie Ridge River Springs Summit Valley"
)
AREA_CODES = ("206", "253", "360", "425", "509", "564")


@dataclass(frozen=True)
class ConsortiumSpec:
    slug: str
    name: str
    code: str
    fee: int
    scale: str
    minimum: str
    opens: tuple[int, int]  # month, day (July-December: the school year's first calendar year)
    closes: tuple[int, int]
    payment: tuple[int, int]
    grading: tuple[int, int]
    colleges: tuple[tuple[str, str], ...]  # (name, code)
    early_days: int = 30  # current year: how long before today the window opened, if shifted
    older_minimum: str = ""  # a different minimum grade two or more years back
    waivers: str = ""


L_, P_, PC = GradeScale.LETTER, GradeScale.POINTS, GradeScale.PERCENT
# fmt: off
CONSORTIA: tuple[ConsortiumSpec, ...] = (
    ConsortiumSpec(
        "cascade-foothills", "Cascade Foothills CTE Dual Credit Consortium", "CF", 50, L_, "B",
        (12, 1), (6, 15), (6, 20), (6, 25),
        (("Cascade Foothills Community College", "CFCC"), ("Timberline Technical College", "TTC")),
        early_days=30, older_minimum="C",
    ),
    ConsortiumSpec(
        "salish-shore", "Salish Shore Career Pathways Consortium", "SS", 0, L_, "C",
        (9, 15), (5, 31), (5, 31), (6, 20), (("Salish Shore College", "SSC"),), early_days=45,
    ),
    ConsortiumSpec(
        "columbia-plateau", "Columbia Plateau Tech Prep Consortium", "CP", 35, PC, "85",
        (10, 1), (6, 1), (6, 10), (6, 20),
        (("Columbia Plateau Community College", "CPCC"), ("Basin Technical College", "BTC")),
        early_days=20, older_minimum="80",
        waivers="Free or reduced-price lunch\nFinancial hardship\nFoster youth\n"
        "McKinney-Vento eligible",
    ),
    ConsortiumSpec(
        "olympic-coast", "Olympic Coast Dual Credit Partnership", "OC", 50, P_, "3.0",
        (11, 1), (6, 10), (6, 15), (6, 22), (("Olympic Coast College", "OCC"),), early_days=25,
    ),
    ConsortiumSpec(
        "palouse-hills", "Palouse Hills Tech Prep Consortium", "PH", 25, L_, "C",
        (1, 5), (6, 1), (6, 5), (6, 15), (("Palouse Hills Community College", "PHCC"),),
        early_days=40,
    ),
    ConsortiumSpec(
        "okanogan-highlands", "Okanogan Highlands CTE Consortium", "OH", 0, L_, "B-",
        (9, 1), (6, 15), (6, 15), (6, 25), (("Okanogan Highlands College", "OHC"),),
    ),
    ConsortiumSpec(
        "puget-lowlands", "Puget Lowlands Dual Credit Consortium", "PL", 50, L_, "B",
        (12, 1), (6, 15), (6, 20), (6, 25),
        (("Puget Lowlands College", "PLC"), ("Harborview Technical College", "HTC")),
        early_days=35,
    ),
    ConsortiumSpec(
        "blue-mountain", "Blue Mountain Career Connections", "BM", 40, PC, "80",
        (10, 15), (5, 31), (6, 5), (6, 18), (("Blue Mountain Community College", "BMCC"),),
    ),
    ConsortiumSpec(
        "skagit-delta", "Skagit Delta Tech Prep Consortium", "SD", 0, P_, "2.5",
        (9, 15), (6, 1), (6, 1), (6, 20), (("Skagit Delta College", "SDC"),),
    ),
    ConsortiumSpec(
        "chehalis-basin", "Chehalis Basin CTE Dual Credit", "CB", 30, L_, "C",
        (11, 15), (6, 10), (6, 15), (6, 22), (("Chehalis Basin Community College", "CBCC"),),
    ),
    ConsortiumSpec(
        "wenatchee-river", "Wenatchee River Career Pathways", "WR", 45, L_, "B",
        (12, 1), (6, 1), (6, 8), (6, 20), (("Wenatchee River College", "WRC"),),
    ),
    ConsortiumSpec(
        "kitsap-sound", "Kitsap Sound Tech Prep Consortium", "KS", 0, L_, "C+",
        (10, 1), (6, 15), (6, 15), (6, 25), (("Kitsap Sound College", "KSC"),),
    ),
)
# fmt: on
ALL_SLUGS = tuple(spec.slug for spec in CONSORTIA)
DEFAULT_WAIVERS = "Free or reduced-price lunch\nFinancial hardship\nFoster youth"


@dataclass(frozen=True)
class CourseTemplate:
    title: str
    cip: str
    cluster: str
    courses: tuple[tuple[str, str, str, str], ...]  # prefix, number, title, credits
    competencies: str
    trade: bool = False  # taught at skills centers


def _t(title, cip, cluster, courses, competencies, trade=False):
    return CourseTemplate(title, cip, cluster, tuple(courses), competencies, trade)


# fmt: off
TEMPLATES: tuple[CourseTemplate, ...] = (
    _t("Accounting 1", "52.0302", "FN", [("ACCT", "101", "Practical Accounting I", "5.0")],
       "Journalize and post business transactions\nPrepare a trial balance\n"
       "Prepare financial statements\nReconcile a bank statement"),
    _t("Accounting 2", "52.0302", "FN", [("ACCT", "102", "Practical Accounting II", "5.0")],
       "Account for payroll and payroll taxes\nApply depreciation methods\n"
       "Use accounting software for a complete cycle"),
    _t("Business Computer Applications", "11.0601", "BM",
       [("BTEC", "105", "Computer Applications", "5.0")],
       "Create business documents with a word processor\nBuild spreadsheets with formulas\n"
       "Design a presentation\nManage files and folders"),
    _t("Business Management", "52.0201", "BM", [("BUS", "101", "Introduction to Business", "5.0")],
       "Describe forms of business ownership\nExplain management functions\n"
       "Write a simple business plan"),
    _t("Marketing 1", "52.1401", "MK", [("MKTG", "101", "Principles of Marketing", "5.0")],
       "Explain the marketing mix\nSegment a target market\nAnalyze a promotional campaign"),
    _t("Retail Merchandising", "52.1803", "MK", [("MKTG", "135", "Retail Merchandising", "3.0")],
       "Plan a visual merchandise display\nCalculate markup and markdown\n"
       "Manage inventory in a school store"),
    _t("Financial Literacy", "52.0801", "FN", [("BUS", "110", "Personal Finance", "3.0")],
       "Build a personal budget\nCompare credit and loan options\nExplain saving and investing"),
    _t("Computer Programming", "11.0201", "IT",
       [("CS", "141", "Programming Fundamentals", "5.0")],
       "Write programs with variables, loops and functions\nDebug and test code\n"
       "Use lists and dictionaries\nDocument a program"),
    _t("Web Design", "11.0801", "IT", [("IT", "115", "Web Page Design", "5.0")],
       "Build pages with semantic HTML\nStyle pages with CSS\nMeet accessibility guidelines"),
    _t("Network Technology", "11.0901", "IT", [("NET", "101", "Networking Fundamentals", "5.0")],
       "Explain the OSI and TCP/IP models\nConfigure a small network\n"
       "Subnet an IPv4 address space"),
    _t("Cybersecurity Foundations", "11.1003", "IT",
       [("CYB", "110", "Introduction to Cybersecurity", "5.0")],
       "Identify common threats and vulnerabilities\nHarden an operating system\n"
       "Explain authentication and encryption"),
    _t("Graphic Design", "50.0409", "AR", [("ART", "150", "Graphic Design I", "5.0")],
       "Apply design principles to layouts\nUse vector and raster software\n"
       "Prepare files for print and web"),
    _t("Digital Photography", "50.0605", "AR", [("PHOT", "101", "Digital Photography", "3.0")],
       "Control exposure manually\nCompose images with intent\nEdit and catalog photographs"),
    _t("Video Production", "10.0202", "AR", [("DMA", "120", "Video Production", "5.0")],
       "Write a script and storyboard\nRecord video and audio\nEdit a short production"),
    _t("Engineering Design (CAD)", "15.1301", "ST",
       [("ENGT", "110", "Engineering Graphics (CAD)", "5.0")],
       "Create orthographic and isometric drawings\nModel parts in 3D CAD\n"
       "Dimension drawings to standard"),
    _t("Principles of Engineering", "14.0101", "ST",
       [("ENGR", "100", "Introduction to Engineering", "3.0")],
       "Apply the engineering design process\nAnalyze simple mechanisms\n"
       "Present a design solution"),
    _t("Architectural Drafting", "15.1303", "AC",
       [("ARCH", "110", "Architectural Drafting", "5.0")],
       "Draw a residential floor plan\nApply building codes\nProduce elevations and sections"),
    _t("Aviation Fundamentals", "49.0101", "TR", [("AVF", "100", "Aviation Fundamentals", "5.0")],
       "Explain principles of flight\nRead aviation weather reports\nPlan a cross-country flight"),
    _t("Hospitality and Tourism", "52.0901", "HT",
       [("HOSP", "101", "Introduction to Hospitality", "5.0")],
       "Describe the segments of the hospitality industry\nDeliver guest service\n"
       "Plan an event budget"),
    _t("Medical Terminology", "51.0000", "HS", [("HLTH", "110", "Medical Terminology", "5.0")],
       "Build medical terms from word parts\nUse body-system terminology\n"
       "Interpret common abbreviations"),
    _t("Sports Medicine", "51.0913", "HS",
       [("PE", "210", "Care and Prevention of Athletic Injuries", "3.0")],
       "Recognize common athletic injuries\nApply taping and wrapping techniques\n"
       "Explain emergency action plans"),
    _t("Early Childhood Education", "19.0709", "ED",
       [("ECED", "105", "Introduction to Early Childhood Education", "5.0")],
       "Describe stages of child development\nPlan an age-appropriate activity\n"
       "Keep children safe and healthy"),
    _t("Teaching Academy", "13.0101", "ED", [("EDUC", "115", "Introduction to Education", "5.0")],
       "Write a lesson plan\nObserve and reflect on teaching\nExplain learning theories"),
    _t("Criminal Justice", "43.0104", "LW",
       [("CJ", "101", "Introduction to Criminal Justice", "5.0")],
       "Describe the criminal justice system\nExplain constitutional rights\n"
       "Write an incident report"),
    _t("Animal Science", "01.0901", "AG", [("AGRI", "120", "Animal Science", "5.0")],
       "Explain animal nutrition and health\nIdentify livestock breeds\n"
       "Describe animal welfare practices"),
    _t("Horticulture", "01.0601", "AG", [("HORT", "101", "Introduction to Horticulture", "5.0")],
       "Propagate plants\nManage a greenhouse crop\nIdentify common landscape plants"),
    _t("Natural Resources", "03.0101", "AG",
       [("NRES", "101", "Natural Resources Management", "5.0")],
       "Measure forest stands\nMonitor water quality\nExplain watershed management"),
    _t("Human Services", "44.0000", "HU",
       [("HSER", "101", "Introduction to Human Services", "5.0")],
       "Describe community service agencies\nPractice active listening\n"
       "Explain ethics and confidentiality"),
    _t("Public Service Careers", "44.0401", "GV",
       [("PUBA", "101", "Introduction to Public Administration", "3.0")],
       "Explain how local government works\nAnalyze a public budget\nDraft a policy memo"),
    # Trades, usually at skills centers.
    _t("Construction Trades", "46.0000", "AC",
       [("CONST", "101", "Construction Fundamentals", "5.0")],
       "Use hand and power tools safely\nRead construction blueprints\nFrame a wall section",
       trade=True),
    _t("Welding Technology", "48.0508", "MN", [("WELD", "101", "Welding Fundamentals", "5.0")],
       "Weld with SMAW in flat and horizontal positions\nCut with oxy-fuel\n"
       "Follow welding safety procedures", trade=True),
    _t("Precision Machining", "48.0501", "MN", [("MACH", "101", "Machining Fundamentals", "5.0")],
       "Set up and run a lathe\nSet up and run a mill\nMeasure parts with precision instruments",
       trade=True),
    _t("Automotive Technology", "47.0604", "TR",
       [("AUTO", "101", "Automotive Fundamentals", "5.0"), ("AUTO", "110", "Brake Systems", "5.0")],
       "Perform a vehicle inspection\nService brake systems\nDiagnose electrical faults",
       trade=True),
    _t("Diesel Technology", "47.0605", "TR", [("DSL", "101", "Diesel Engine Fundamentals", "5.0")],
       "Explain diesel engine operation\nService fuel systems\nPerform preventive maintenance",
       trade=True),
    _t("Culinary Arts", "12.0500", "HT",
       [("CUL", "101", "Culinary Fundamentals", "5.0"),
        ("CUL", "105", "Food Safety and Sanitation", "2.0")],
       "Apply knife skills\nPrepare stocks, soups and sauces\nFollow food safety rules",
       trade=True),
    _t("Nursing Assistant", "51.3902", "HS", [("NAC", "101", "Nursing Assistant Certified", "7.0")],
       "Take and record vital signs\nProvide personal care safely\nFollow infection control",
       trade=True),
    _t("Emergency Medical Responder", "51.0904", "HS",
       [("EMS", "100", "Emergency Medical Responder", "4.0")],
       "Assess a patient\nPerform CPR and first aid\nManage a scene safely", trade=True),
    _t("Fire Science", "43.0203", "LW", [("FIRE", "101", "Introduction to Fire Science", "5.0")],
       "Explain fire behavior\nUse fire protective equipment\nDescribe fire service operations",
       trade=True),
    _t("Cosmetology", "12.0401", "HU", [("COSM", "101", "Cosmetology Fundamentals", "10.0")],
       "Apply sanitation and infection control\nPerform basic hair services\n"
       "Explain state licensing rules", trade=True),
)
# fmt: on
REGULAR_TEMPLATES = tuple(t for t in TEMPLATES if not t.trade)
TRADE_TEMPLATES = tuple(t for t in TEMPLATES if t.trade)

# Enrollments per student per year: mean about 2.6.
K_VALUES = (1, 2, 3, 4, 5)
K_CUM = tuple(accumulate((0.21, 0.30, 0.25, 0.14, 0.10)))
LETTER_WEIGHTS = {
    "A": 30,
    "A-": 16,
    "B+": 14,
    "B": 13,
    "B-": 8,
    "C+": 6,
    "C": 5,
    "C-": 2,
    "D+": 1,
    "D": 1,
    "D-": 0.5,
    "F": 3.5,
}
LETTERS = tuple(LETTER_WEIGHTS)
LETTER_CUM = tuple(accumulate(LETTER_WEIGHTS.values()))
# Percent grades drawn for each letter: its floor up to the next letter's floor.
_FLOORS = sorted(PERCENT_LETTER_FLOORS)
PERCENT_RANGE = {
    letter: (
        40 if letter == "F" else floor,
        (_FLOORS[i + 1][0] - 1) if i + 1 < len(_FLOORS) else 100,
    )
    for i, (floor, letter) in enumerate(_FLOORS)
}
GENDERS = _Weighted((("female", 48), ("male", 48), ("nonbinary", 2), ("not_listed", 2)))
RACES = _Weighted(
    (
        ("white", 52),
        ("hispanic", 25),
        ("asian", 9),
        ("multiracial", 8),
        ("black", 4),
        ("american_indian", 1.5),
        ("pacific_islander", 0.5),
    )
)
REMOVE_REASONS = (
    "Not in my class",
    "Student is not on my roster",
    "Registered for the wrong period",
)
WITHDRAW_REASONS = ("", "", "Schedule change", "Dropped the class", "Moved to another school")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _md(start_year: int, month_day: tuple[int, int]) -> date:
    """A month/day in the school year starting July 1 of start_year."""
    month, day = month_day
    return date(start_year if month >= 7 else start_year + 1, month, day)


def _ascii(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _slug(text: str) -> str:
    return "-".join(_ascii(part) for part in text.split())


def sers_id_from(rng: random.Random) -> str:
    """The format of enrollment.services.generate_sers_id (eight digits, the first not zero,
    and a Luhn check digit) drawn from a seeded generator, so a seed gives the same ids."""
    body = f"{rng.randrange(10_000_000, 100_000_000):08d}"
    return body + luhn_check_digit(body)


@dataclass
class DemoLogin:
    email: str
    role: str
    scope: str
    password: str = DEMO_PASSWORD


@dataclass
class BuildResult:
    seconds: float
    counts: dict[str, int]
    phases: list[tuple[str, float]]


# ---------------------------------------------------------------------------------------------
# Writing rows fast
# ---------------------------------------------------------------------------------------------


class RowWriter:
    """Writes tuples of column values: COPY on PostgreSQL, bulk_create elsewhere.

    Fields the caller does not give get their model default, so a field added to a model
    later (with a default) does not break the loader.
    """

    def __init__(self, *, use_copy: bool | None = None, batch_size: int = 2000):
        if use_copy is None:
            use_copy = connection.vendor == "postgresql"
        self.use_copy = use_copy and connection.vendor == "postgresql"
        self.batch_size = batch_size
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()  # time spent writing, per table
        self.models: set[type[models.Model]] = set()

    def write(self, model: type[models.Model], fields: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        self.counts[model._meta.label] += len(rows)
        self.models.add(model)
        start = time.perf_counter()
        if self.use_copy:
            self._copy(model, fields, rows)
        else:
            self._bulk_create(model, fields, rows)
        reset_queries()  # with DEBUG on, Django keeps every query's SQL in memory
        self.seconds[model._meta.label] += time.perf_counter() - start

    def _missing(self, model, fields):
        given = set(fields)
        missing = []
        for f in model._meta.concrete_fields:
            if f.attname in given or f.primary_key:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                missing.append((f.column, timezone.now()))
            else:
                missing.append((f.column, f.get_db_prep_save(f.get_default(), connection)))
        return missing

    def _copy(self, model, fields, rows):
        opts = model._meta
        quote = connection.ops.quote_name
        columns = [opts.get_field(name).column for name in fields]
        extra = self._missing(model, fields)
        columns += [column for column, _ in extra]
        extra_values = tuple(value for _, value in extra)
        sql = f"COPY {quote(opts.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            if extra_values:
                for row in rows:
                    copy.write_row(row + extra_values)
            else:
                for row in rows:
                    copy.write_row(row)

    def _bulk_create(self, model, fields, rows):
        with _explicit_timestamps(model, fields):
            objs = [model(**dict(zip(fields, row, strict=True))) for row in rows]
            model._base_manager.bulk_create(objs, batch_size=self.batch_size)

    def reset_sequences(self) -> None:
        """After writing explicit primary keys, move each id sequence past them."""
        if connection.vendor == "postgresql":
            # Never backwards: sequences ignore rollbacks, so a rolled-back build could
            # otherwise leave a sequence below ids that are back in the table.
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                for model in self.models:
                    table, column = model._meta.db_table, model._meta.pk.column
                    # Identifiers come from the model's metadata, quoted; values are bound.
                    highest = f"SELECT COALESCE(MAX({quote(column)}), 1) FROM {quote(table)}"  # noqa: S608
                    sql = (
                        "SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST("
                        f"nextval(pg_get_serial_sequence(%s, %s)), ({highest})))"
                    )
                    cursor.execute(sql, [quote(table), column, quote(table), column])
            return
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.models))
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


@contextmanager
def _explicit_timestamps(model, fields):
    """bulk_create stamps auto_now/auto_now_add fields with the current time; for the fields we
    give explicitly (a history dated last spring), switch that off for the duration."""
    switched = []
    for name in fields:
        f = model._meta.get_field(name)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            switched.append((f, f.auto_now, f.auto_now_add))
            f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in switched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class _Ids:
    """Primary keys handed out in advance, so related rows need no round trip."""

    def __init__(self):
        self._next: dict[type, int] = {}

    def take(self, model: type[models.Model], count: int = 1) -> int:
        if model not in self._next:
            self._next[model] = (model._base_manager.aggregate(m=Max("pk"))["m"] or 0) + 1
        first = self._next[model]
        self._next[model] = first + count
        return first


# Column orders of the rows below.
USER_F = (
    "id",
    "password",
    "last_login",
    "is_superuser",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "date_joined",
    "email_verified_at",
)
PROFILE_F = (
    "id",
    "user_id",
    "sers_id",
    "legal_first_name",
    "legal_middle_name",
    "legal_last_name",
    "birth_date",
    "phone",
    "high_school_id",
    "graduation_year",
    "gender",
    "race_ethnicity",
    "created_at",
    "updated_at",
)
SECTION_F = (
    "id",
    "articulation_id",
    "teacher_id",
    "high_school_id",
    "academic_year_id",
    "term",
    "section_code",
    "completed_at",
    "completed_by_id",
    "created_at",
)
ENROLLMENT_F = (
    "id",
    "student_id",
    "section_id",
    "status",
    "grade",
    "graded_at",
    "graded_by_id",
    "college_student_id",
    "transcribed_on",
    "registered_by_id",
    "created_at",
    "status_changed_at",
)
HISTORY_F = (
    "enrollment_id",
    "from_status",
    "to_status",
    "grade",
    "changed_by_id",
    "changed_at",
    "reason",
)
FEE_F = (
    "student_id",
    "consortium_id",
    "academic_year_id",
    "amount",
    "status",
    "paid_amount",
    "paid_on",
    "receipt_number",
    "waiver_reason",
    "recorded_by_id",
    "updated_at",
)
MEMBERSHIP_F = (
    "user_id",
    "role",
    "consortium_id",
    "college_id",
    "district_id",
    "high_school_id",
    "created_at",
)


# ---------------------------------------------------------------------------------------------
# The in-memory plan of the organisations and agreements
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Policy:
    opens: date
    closes: date
    payment_deadline: date
    grading_deadline: date
    fee: Decimal
    scale: str
    minimum: str
    waivers: list[str]


@dataclass(slots=True, eq=False)
class _College:
    index: int
    id: int
    name: str
    code: str
    domain: str
    registrar_id: int = 0
    approver_id: int = 0
    course_ids: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _District:
    id: int
    name: str
    code: str
    domain: str
    specialist_id: int = 0


@dataclass(slots=True, eq=False)
class _School:
    id: int
    name: str
    kind: str
    consortium: "_Consortium"
    district: _District
    weight: float = 1.0
    lineages: list["_Lineage"] = field(default_factory=list)
    terms: dict[int, str] = field(default_factory=dict)  # lineage index -> term
    teachers: dict[int, list[int]] = field(default_factory=dict)  # lineage index -> user ids
    teacher_ids: list[int] = field(default_factory=list)
    # per year index: offerings (pool with repeats for popularity) here and at skills centers
    pool: dict[int, list[tuple["_School", "_Version"]]] = field(default_factory=dict)
    sc_pool: dict[int, list[tuple["_School", "_Version"]]] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Version:
    id: int
    lineage: "_Lineage"
    version: int
    status: str
    years: set[int]  # year indexes
    scale: str
    minimum: str
    college: _College


@dataclass(slots=True, eq=False)
class _Lineage:
    index: int
    template: CourseTemplate
    kind: str  # revision / expired / pending / draft / submitted / approved / active
    college: _College
    weight: int
    versions: list[_Version] = field(default_factory=list)
    schools: list[_School] = field(default_factory=list)

    def offered(self, year_index: int) -> "_Version | None":
        for v in self.versions:
            if year_index in v.years and v.status in (A.ACTIVE, A.EXPIRED, A.RETIRED):
                return v
        return None


@dataclass(slots=True, eq=False)
class _Consortium:
    index: int
    spec: ConsortiumSpec
    id: int
    colleges: list[_College] = field(default_factory=list)
    districts: list[_District] = field(default_factory=list)
    schools: list[_School] = field(default_factory=list)  # regular high schools
    skills_centers: list[_School] = field(default_factory=list)
    policies: dict[int, _Policy] = field(default_factory=dict)
    lineages: list[_Lineage] = field(default_factory=list)
    admin_id: int = 0
    receipts: int = 0


@dataclass(slots=True, eq=False)
class _Section:
    id: int
    school: _School
    version: _Version
    teacher_id: int
    year_index: int
    term: str
    reg_lo: float
    reg_hi: float
    term_end: float
    grade_ts: float | None
    complete_ts: float | None


# ---------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------


class DemoDataBuilder:
    """Builds the whole dataset. Use `build_demo_data` rather than this class directly."""

    chunk_students = 5000

    def __init__(
        self,
        *,
        students_per_year: int = STUDENTS_PER_YEAR["small"],
        years: int = 2,
        seed: int = 2026,
        today: date | None = None,
        now: datetime | None = None,
        use_copy: bool | None = None,
        log: Callable[[str], None] | None = None,
    ):
        if years < 2:
            raise ValueError("Build at least two academic years (the current and the last).")
        if students_per_year < MIN_STUDENTS:
            raise ValueError(f"Build at least {MIN_STUDENTS} students a year.")
        self.n_students = students_per_year
        self.n_years = years
        self.seed = seed
        self.now = now or timezone.now()
        self.today = today or timezone.localdate(self.now)
        self.now_ts = self.now.timestamp()
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.log = log or (lambda message: None)
        self.writer = RowWriter(use_copy=use_copy)
        self.ids = _Ids()
        self.phases: list[tuple[str, float]] = []
        self._t0 = time.perf_counter()
        current = self.today.year if self.today.month >= 7 else self.today.year - 1
        self.year_starts = [current - i for i in range(years - 1, -1, -1)]  # oldest first
        self.current = years - 1
        self.password = make_password(DEMO_PASSWORD)  # hashed once, shared by every account
        self._emails: set[str] = set()
        self._places = self._place_names()
        self._meets: dict[tuple[str, str, str, str], bool] = {}
        # students: parallel lists indexed by student number
        self.st_id: list[int] = []
        self.st_user: list[int] = []
        self.st_school: list[_School] = []
        self.st_grad: list[int] = []
        self.taken: dict[int, set[int]] = {}
        self.sections: dict[tuple[int, int], list[_Section]] = defaultdict(list)
        self.used_sers: set[str] = set(StudentProfile.objects.values_list("sers_id", flat=True))
        self.served: dict[int, list[_School]] = {}  # district id -> skills centers serving it

    # -- helpers -------------------------------------------------------------------------------

    def rng(self, name: str) -> random.Random:
        """An independent, seeded stream per purpose, so one phase never shifts another."""
        return random.Random(f"{self.seed}:{name}")

    @contextmanager
    def phase(self, name: str, *, atomic: bool = True):
        start = time.perf_counter()
        with _loading() if atomic else _nothing():
            yield
        took = time.perf_counter() - start
        self.phases.append((name, took))
        self.log(f"[{time.perf_counter() - self._t0:7.1f}s] {name} ({took:.1f}s)")

    def ts(self, day: date, hours: float = 0.0) -> float:
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).timestamp() + hours * HOUR

    @staticmethod
    def dt(ts: float) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    def day_of(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self.tz).date()

    def _place_names(self) -> list[str]:
        names = [f"{a} {b}" for a in PLACE_A for b in PLACE_B]
        self.rng("places").shuffle(names)
        return names

    def place(self) -> str:
        return self._places.pop()

    def email(self, local: str, domain: str) -> str:
        address = f"{local}@{domain}"
        n = 2
        while address in self._emails:
            address = f"{local}{n}@{domain}"
            n += 1
        self._emails.add(address)
        return address

    def user_row(self, uid, email, first, last, joined, *, active=True, staff=False, su=False):
        return (
            uid,
            self.password,
            None,
            su,
            email,
            first,
            last,
            active,
            staff or su,
            self.dt(joined),
            self.dt(joined + 600) if active else None,
        )

    def person(self, rng: random.Random) -> tuple[str, str]:
        return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)

    def meets(self, scale: str, grade: str, min_scale: str, minimum: str) -> bool:
        key = (scale, grade, min_scale, minimum)
        if key not in self._meets:
            self._meets[key] = meets_minimum(
                scale=scale, grade=grade, minimum_scale=min_scale, minimum=minimum
            )
        return self._meets[key]

    @staticmethod
    def draw_grade(rng: random.Random, scale: str) -> str:
        letter = LETTERS[bisect_right(LETTER_CUM, rng.random() * LETTER_CUM[-1])]
        if scale == GradeScale.LETTER:
            return letter
        if scale == GradeScale.POINTS:
            points = float(LETTER_POINTS[letter]) + rng.uniform(-0.1, 0.25)
            return f"{min(4.0, max(0.0, points)):.1f}"
        low, high = PERCENT_RANGE[letter]
        return str(rng.randint(low, high))

    # -- the build -----------------------------------------------------------------------------

    def build(self) -> BuildResult:
        self.log(
            f"Building demo data: {self.n_students:,} students a year, {self.n_years} years "
            f"({', '.join(AcademicYear.code_for_start(s) for s in self.year_starts)}), "
            f"seed {self.seed}, writing with {'COPY' if self.writer.use_copy else 'bulk_create'}"
        )
        with self.phase("academic years and organisations"):
            self.build_years()
            self.build_organisations()
        with self.phase("courses and articulation agreements"):
            self.build_articulations()
        with self.phase("staff, teachers and qualifications"):
            self.build_staff()
            self.build_teachers()
        for yi in range(self.n_years):
            self.build_year(yi)
        with self.phase("demo student"):
            self.build_demo_student()
        with self.phase("demo logins and finishing"):
            self.build_admin()
            self.writer.reset_sequences()
        if connection.vendor == "postgresql":
            start = time.perf_counter()
            with connection.cursor() as cursor:
                for model in sorted(self.writer.models, key=lambda m: m._meta.db_table):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            self.phases.append(("analyze", time.perf_counter() - start))
        seconds = time.perf_counter() - self._t0
        total = sum(self.writer.counts.values())
        writing = sum(self.writer.seconds.values())
        self.log(
            f"[{seconds:7.1f}s] done: {total:,} rows ({total / seconds:,.0f} rows/s); "
            f"{writing:.1f}s of it in database writes"
        )
        return BuildResult(seconds, dict(self.writer.counts), self.phases)

    # -- years and organisations ---------------------------------------------------------------

    def build_years(self) -> None:
        self.year_ids = []
        for start in self.year_starts:
            year, _ = AcademicYear.objects.get_or_create(
                code=AcademicYear.code_for_start(start),
                defaults={"start_date": date(start, 7, 1), "end_date": date(start + 1, 6, 30)},
            )
            self.year_ids.append(year.pk)

    def policy(self, spec: ConsortiumSpec, yi: int, main: bool) -> _Policy:
        start = self.year_starts[yi]
        age = self.current - yi
        opens, closes = _md(start, spec.opens), _md(start, spec.closes)
        payment, grading = _md(start, spec.payment), _md(start, spec.grading)
        first_day, last_day = date(start, 7, 1), date(start + 1, 6, 30)
        if age == 0:
            # Registration must be usable today: open the window early if it has not opened
            # yet, and keep the main consortium's window open for another month at least.
            if self.today < opens:
                opens = max(first_day, self.today - timedelta(days=spec.early_days))
            if main:
                opens = max(first_day, min(opens, self.today - timedelta(days=30)))
                closes = max(closes, min(last_day, self.today + timedelta(days=30)))
                payment = min(last_day, max(payment, closes + timedelta(days=5)))
                grading = min(last_day, max(grading, closes + timedelta(days=10)))
        fee = Decimal(spec.fee - 5 if spec.fee >= 40 and age >= 1 else spec.fee)
        minimum = spec.older_minimum if spec.older_minimum and age >= 2 else spec.minimum
        waivers = spec.waivers or DEFAULT_WAIVERS
        return _Policy(
            opens, closes, payment, grading, fee, spec.scale, minimum, waivers.splitlines()
        )

    def build_organisations(self) -> None:
        rng = self.rng("organisations")
        n = self.n_students
        n_consortia = min(len(CONSORTIA), max(4, round(n / 5200)))
        n_schools = max(3 * n_consortia, round(n / 190))
        weights = [1.6] + [rng.uniform(0.7, 1.3) for _ in range(n_consortia - 1)]
        per = [max(2, round(n_schools * w / sum(weights))) for w in weights]
        consortium_rows, college_rows, district_rows, school_rows = [], [], [], []
        policy_rows, served_rows = [], []
        self.consortia: list[_Consortium] = []
        self.schools: list[_School] = []  # regular high schools, where students belong
        updated = self.dt(self.ts(date(self.year_starts[0], 5, 1)))
        district_code = 10_000 + rng.randrange(1000)
        school_code = 3_000 + rng.randrange(1000)
        for ci, spec in enumerate(CONSORTIA[:n_consortia]):
            c = _Consortium(ci, spec, self.ids.take(Consortium))
            self.consortia.append(c)
            domain = spec.slug + EMAIL_SUFFIX
            if spec.fee:
                pay = (
                    f"Pay the annual CTE Dual Credit fee online through the "
                    f"{spec.colleges[0][0]} cashier's web page, or in person at the cashier's "
                    f"office with your SERS ID. The fee is per school year, not per class. If "
                    f"paying is a hardship, ask your school counselor about a fee waiver."
                )
            else:
                pay = "There is no fee for CTE Dual Credit in this consortium."
            consortium_rows.append(
                (
                    c.id,
                    spec.name,
                    spec.slug,
                    "CTE Dual Credit coordinator",
                    f"dualcredit@{domain}",
                    f"{AREA_CODES[ci % len(AREA_CODES)]}-555-01{ci:02d}",
                    f"https://{domain}/",
                    pay,
                    ci % 2 == 0,
                )
            )
            for name, code in spec.colleges:
                college = _College(
                    len(c.colleges),
                    self.ids.take(College),
                    name,
                    code,
                    f"{code.lower()}.edu{EMAIL_SUFFIX}",
                )
                c.colleges.append(college)
                college_rows.append(
                    (
                        college.id,
                        c.id,
                        name,
                        code,
                        f"registrar@{college.domain}",
                        f"https://{college.domain}/",
                    )
                )
            n_here = per[ci]
            n_districts = max(3 if ci == 0 else 2, round(n_here / 1.6))
            n_here = max(n_here, n_districts)
            for _ in range(n_districts):
                place = self.place()
                district_code += rng.randint(3, 40)
                d = _District(
                    self.ids.take(District),
                    f"{place} School District",
                    str(district_code),
                    f"{_slug(place)}.k12{EMAIL_SUFFIX}",
                )
                c.districts.append(d)
                district_rows.append((d.id, c.id, d.name, d.code))
            for si in range(n_here):
                d = c.districts[si] if si < n_districts else rng.choice(c.districts)
                place = d.name.removesuffix(" School District") if si < n_districts else None
                place = place or self.place()
                school_code += rng.randint(2, 30)
                weight = rng.uniform(0.6, 1.4)
                if ci == 0 and si == 0:
                    weight = 3.0  # the main demo school: big enough for full rosters
                school = _School(
                    self.ids.take(HighSchool), f"{place} High School", "high_school", c, d, weight
                )
                c.schools.append(school)
                self.schools.append(school)
                school_rows.append(
                    (school.id, d.id, school.name, str(school_code), school.kind, place)
                )
            # A skills center for consortia with three or more districts (always the first).
            if ci == 0 or n_districts >= 3:
                school_code += rng.randint(2, 30)
                host = c.districts[0]
                region = spec.name.split(" ")[0] + " " + spec.name.split(" ")[1]
                sc = _School(
                    self.ids.take(HighSchool), f"{region} Skills Center", "skills_center", c, host
                )
                c.skills_centers.append(sc)
                school_rows.append(
                    (
                        sc.id,
                        host.id,
                        sc.name,
                        str(school_code),
                        sc.kind,
                        host.name.removesuffix(" School District"),
                    )
                )
                k = len(c.districts) if len(c.districts) <= 4 else rng.randint(3, 6)
                served = c.districts[:k]
                served_rows += [(sc.id, d.id) for d in served]
                for d in served:
                    self.served.setdefault(d.id, []).append(sc)
            domains = "\n".join(sorted({d.domain for d in c.districts}))
            for yi in range(self.n_years):
                p = self.policy(spec, yi, main=ci == 0)
                c.policies[yi] = p
                policy_rows.append(
                    (
                        c.id,
                        self.year_ids[yi],
                        p.opens,
                        p.closes,
                        p.payment_deadline,
                        p.grading_deadline,
                        p.fee,
                        "\n".join(p.waivers),
                        p.scale,
                        p.minimum,
                        domains,
                        updated,
                    )
                )
        self.main = self.consortia[0]
        self.main_school = self.main.schools[0]
        w = self.writer
        w.write(
            Consortium,
            (
                "id",
                "name",
                "slug",
                "contact_name",
                "contact_email",
                "contact_phone",
                "website",
                "payment_instructions",
                "show_teacher_names_publicly",
            ),
            consortium_rows,
        )
        w.write(
            College,
            ("id", "consortium_id", "name", "code", "registrar_email", "website"),
            college_rows,
        )
        w.write(District, ("id", "consortium_id", "name", "code"), district_rows)
        w.write(HighSchool, ("id", "district_id", "name", "code", "kind", "city"), school_rows)
        through, src, dst = _m2m(HighSchool, "served_districts")
        w.write(through, (src, dst), served_rows)
        w.write(
            ConsortiumPolicy,
            (
                "consortium_id",
                "academic_year_id",
                "registration_opens",
                "registration_closes",
                "payment_deadline",
                "grading_deadline",
                "annual_fee",
                "waiver_reasons",
                "grade_scale",
                "default_minimum_grade",
                "school_email_domains",
                "updated_at",
            ),
            policy_rows,
        )

    # -- courses and agreements ----------------------------------------------------------------

    def build_articulations(self) -> None:
        rng = self.rng("articulations")
        clusters = dict(
            CareerCluster.objects.filter(framework=CareerCluster.Framework.NATIONAL_16).values_list(
                "code", "id"
            )
        )
        big = self.n_students >= 5000
        hs_course_rows, college_course_rows, art_rows, change_rows = [], [], [], []
        m2m_schools, m2m_courses, m2m_years = [], [], []
        self.lineages: list[_Lineage] = []
        first_start = self.year_starts[0]
        all_years = set(range(self.n_years))
        past_years = all_years - {self.current}
        for c in self.consortia:
            regular = list(REGULAR_TEMPLATES)
            rng.shuffle(regular)
            trade = list(TRADE_TEMPLATES)
            rng.shuffle(trade)
            n_regular = min(len(regular), 14 + len(c.schools) // 2 if big else 10)
            n_trade = min(len(trade), 6 if big else 3)
            kinds = ["revision", "expired", "pending", "draft", "submitted", "approved"]
            plan = [
                (t, kinds[i] if i < len(kinds) else "active")
                for i, t in enumerate(regular[:n_regular])
            ]
            plan += [(t, "active") for t in trade[:n_trade]]
            policy = c.policies[self.current]
            for li, (template, kind) in enumerate(plan):
                college = c.colleges[0] if kind != "active" else c.colleges[li % len(c.colleges)]
                lineage = _Lineage(
                    len(self.lineages), template, kind, college, rng.choice((1, 2, 2, 3, 3, 4))
                )
                self.lineages.append(lineage)
                c.lineages.append(lineage)
                hs_id = self.ids.take(HighSchoolCourse)
                local = f"CTE{rng.randint(100, 899)}"
                hs_course_rows.append((hs_id, c.id, template.title, local, template.cip))
                for prefix, number, title, credits in template.courses:
                    if (prefix, number) not in college.course_ids:
                        cc_id = self.ids.take(CollegeCourse)
                        college.course_ids[(prefix, number)] = cc_id
                        college_course_rows.append(
                            (cc_id, college.id, prefix, number, title, Decimal(credits))
                        )
                course_ids = [college.course_ids[(p, n)] for p, n, *_ in template.courses]
                # Versions: (version, status, valid year indexes)
                start_yi = 0 if kind != "active" or rng.random() < 0.85 else 1
                if kind == "revision":
                    versions = [(1, A.RETIRED, past_years), (2, A.ACTIVE, {self.current})]
                elif kind == "expired":
                    versions = [(1, A.EXPIRED, past_years)]
                elif kind == "pending":
                    versions = [(1, A.ACTIVE, all_years), (2, A.SUBMITTED, {self.current})]
                elif kind in ("draft", "submitted", "approved"):
                    versions = [(1, kind, {self.current})]
                else:
                    versions = [(1, A.ACTIVE, set(range(start_yi, self.n_years)))]
                number = f"{c.spec.code}-{first_start + start_yi}-{li + 1:03d}"
                previous = None
                for version, status, years in versions:
                    vid = self.ids.take(Articulation)
                    minimum = policy.minimum
                    if version == 1 and kind == "active" and rng.random() < 0.15:
                        minimum = {"letter": "C", "points": "2.0", "percent": "75"}[policy.scale]
                    competencies = template.competencies
                    if version == 2:
                        competencies += "\nMeet current industry safety and software standards"
                    v = _Version(
                        vid, lineage, version, status, set(years), policy.scale, minimum, college
                    )
                    lineage.versions.append(v)
                    created, history = self._articulation_history(rng, c, v, kind)
                    art_rows.append(
                        (
                            vid,
                            c.id,
                            college.id,
                            number,
                            version,
                            previous,
                            hs_id,
                            clusters[template.cluster],
                            policy.scale,
                            minimum,
                            competencies,
                            status,
                            self.dt(created),
                            self.dt(history[-1][3]),
                        )
                    )
                    change_rows += [
                        (vid, f, t, by, self.dt(at), note) for f, t, by, at, note in history
                    ]
                    m2m_courses += [(vid, cc) for cc in course_ids]
                    m2m_years += [(vid, self.year_ids[y]) for y in sorted(years)]
                    previous = vid
            self._assign_schools(rng, c)
            for lineage in c.lineages:
                for v in lineage.versions:
                    m2m_schools += [(v.id, s.id) for s in lineage.schools]
        w = self.writer
        w.write(
            HighSchoolCourse,
            ("id", "consortium_id", "title", "local_code", "cip_code"),
            hs_course_rows,
        )
        w.write(
            CollegeCourse,
            ("id", "college_id", "prefix", "number", "title", "credits"),
            college_course_rows,
        )
        w.write(
            Articulation,
            (
                "id",
                "consortium_id",
                "college_id",
                "agreement_number",
                "version",
                "previous_version_id",
                "high_school_course_id",
                "cluster_id",
                "minimum_grade_scale",
                "minimum_grade",
                "competencies",
                "status",
                "created_at",
                "updated_at",
            ),
            art_rows,
        )
        for name, rows in (
            ("high_schools", m2m_schools),
            ("college_courses", m2m_courses),
            ("valid_years", m2m_years),
        ):
            through, src, dst = _m2m(Articulation, name)
            w.write(through, (src, dst), rows)
        self._articulation_changes = change_rows  # written once the people exist

    def _articulation_history(self, rng, c, v, kind):
        """Status changes of one agreement version, as (from, to, by, ts, note)."""
        first = min(v.years)
        start = self.ts(date(self.year_starts[first], 7, 1))
        in_progress = v.status in (A.DRAFT, A.SUBMITTED, A.APPROVED)
        if in_progress:
            at = self.now_ts - rng.uniform(70, 90) * DAY
        else:
            at = start - rng.uniform(120, 200) * DAY
        admin, approver = ("admin", c.index), ("approver", v.college.index, c.index)
        steps = [("", A.DRAFT, admin, "")]
        order = [A.SUBMITTED, A.APPROVED, A.ACTIVE]
        target = {A.EXPIRED: A.ACTIVE, A.RETIRED: A.ACTIVE}.get(v.status, v.status)
        for status in order[: order.index(target) + 1] if target != A.DRAFT else []:
            by = approver if status == A.APPROVED else admin
            note = (
                "Signed by the college dean and the district CTE director"
                if (status == A.APPROVED)
                else ""
            )
            steps.append((steps[-1][1], status, by, note))
        history = []
        for from_status, to_status, by, note in steps:
            history.append([from_status, to_status, by, at, note])
            at += rng.uniform(3, 12) * DAY if in_progress else rng.uniform(5, 25) * DAY
        if v.status in (A.EXPIRED, A.RETIRED):
            last = max(v.years)
            end = self.ts(date(self.year_starts[last] + 1, 6, 30), 17)
            note = "Replaced by version 2" if v.status == A.RETIRED else "Not renewed"
            history.append([A.ACTIVE, v.status, admin, end, note])
        created = history[0][3]
        return created, [tuple(h) for h in history]

    def _assign_schools(self, rng, c: _Consortium) -> None:
        """Which schools teach which agreements, the term they use, and the popularity pool."""
        taught = [
            lin for lin in c.lineages if lin.kind in ("revision", "expired", "pending", "active")
        ]
        regular = [lin for lin in taught if not lin.template.trade]
        trades = [lin for lin in taught if lin.template.trade]
        total_weight = sum(s.weight for s in self.schools)
        for si, school in enumerate(c.schools):
            expected = self.n_students * 2.6 * school.weight / total_weight
            m = max(5, min(len(regular), round(expected / 55)))
            must = [lin for lin in regular if lin.kind != "active"] if si == 0 else []
            rest = [lin for lin in regular if lin not in must]
            chosen = must + rng.sample(rest, min(len(rest), max(0, m - len(must))))
            share = 0.15 if c.skills_centers else 0.5
            chosen += [lin for lin in trades if rng.random() < share]
            school.lineages = chosen
        for sc in c.skills_centers:
            sc.lineages = list(trades) or regular[:2]
        for lin in taught:
            if not any(lin in s.lineages for s in c.schools + c.skills_centers):
                rng.choice(c.schools).lineages.append(lin)
        for school in c.schools + c.skills_centers:
            for lin in school.lineages:
                lin.schools.append(school)
                roll = rng.random()
                is_sc = school.kind == "skills_center"
                school.terms[lin.index] = (
                    "year" if is_sc or roll < 0.7 else "fall" if roll < 0.85 else "spring"
                )
        for lin in c.lineages:
            if lin.kind in ("draft", "submitted", "approved"):
                lin.schools = rng.sample(c.schools, min(len(c.schools), rng.randint(1, 3)))

    # -- people --------------------------------------------------------------------------------

    def build_staff(self) -> None:
        rng = self.rng("staff")
        users, memberships = [], []
        joined = self.ts(date(self.year_starts[0] - 1, 8, 15), 9)

        def add(role, scope, *, domain="", demo=""):
            """A staff account: the demo login `demo@demo...`, else first.last@domain."""
            uid = self.ids.take(User)
            first, last = self.person(rng)
            if demo:
                email = self.email(demo, DEMO_DOMAIN)
            else:
                email = self.email(f"{_ascii(first)}.{_ascii(last)}", domain)
            users.append(self.user_row(uid, email, first, last, joined + rng.uniform(0, 60) * DAY))
            columns = ("consortium", "college", "district", "high_school")
            memberships.append(
                (uid, role, *(scope.get(k) for k in columns), self.dt(joined + 70 * DAY))
            )
            return uid

        for c in self.consortia:
            main = c is self.main
            c.admin_id = add(
                Role.CONSORTIUM_ADMIN,
                {"consortium": c.id},
                domain=c.spec.slug + EMAIL_SUFFIX,
                demo="consortium" if main else "",
            )
            for college in c.colleges:
                demo = main and college.index == 0
                college.registrar_id = add(
                    Role.REGISTRAR,
                    {"college": college.id},
                    domain=college.domain,
                    demo="registrar" if demo else "",
                )
                college.approver_id = add(
                    Role.COLLEGE_APPROVER,
                    {"college": college.id},
                    domain=college.domain,
                    demo="approver" if demo else "",
                )
            for di, d in enumerate(c.districts):
                d.specialist_id = add(
                    Role.CAREER_SPECIALIST,
                    {"district": d.id},
                    domain=d.domain,
                    demo="specialist" if main and di == 0 else "",
                )
            # One career specialist working for a single high school.
            school = c.schools[-1]
            add(Role.CAREER_SPECIALIST, {"high_school": school.id}, domain=school.district.domain)
        add(Role.STATE_STAFF, {}, demo="state")
        for _ in range(2):
            add(Role.STATE_STAFF, {}, domain="ospi" + EMAIL_SUFFIX)
        self.writer.write(User, USER_F, users)
        self.writer.write(RoleMembership, MEMBERSHIP_F, memberships)
        # Agreement histories name the consortium admin and the college approver.
        who = {}
        for c in self.consortia:
            who[("admin", c.index)] = c.admin_id
            for college in c.colleges:
                who[("approver", college.index, c.index)] = college.approver_id
        rows = [
            (a, f, t, who[by], at, note) for a, f, t, by, at, note in self._articulation_changes
        ]
        self.writer.write(
            ArticulationStatusChange,
            ("articulation_id", "from_status", "to_status", "changed_by_id", "changed_at", "note"),
            rows,
        )

    def build_teachers(self) -> None:
        rng = self.rng("teachers")
        users, memberships, quals = [], [], set()
        joined_base = self.ts(date(self.year_starts[0] - 1, 8, 20), 8)
        for c in self.consortia:
            for school in c.schools + c.skills_centers:
                lineages = school.lineages
                count = max(1, round(len(lineages) * 0.6))
                for ti in range(count):
                    uid = self.ids.take(User)
                    first, last = self.person(rng)
                    if school is self.main_school and ti == 0:
                        email = self.email("teacher", DEMO_DOMAIN)
                        self.demo_teacher_id = uid
                    else:
                        email = self.email(
                            f"{_ascii(first)}.{_ascii(last)}", school.district.domain
                        )
                    joined = joined_base + rng.uniform(0, 300) * DAY
                    users.append(self.user_row(uid, email, first, last, joined))
                    memberships.append(
                        (uid, Role.TEACHER, None, None, None, school.id, self.dt(joined + DAY))
                    )
                    school.teacher_ids.append(uid)
                for j, lin in enumerate(lineages):
                    teachers = [school.teacher_ids[j % count]]
                    if count > 1 and rng.random() < 0.25:
                        teachers.append(school.teacher_ids[(j + 1) % count])
                    school.teachers[lin.index] = teachers
                    for v in lin.versions:
                        quals.update((v.id, t) for t in teachers)
            for lin in c.lineages:  # agreements still in the works name a teacher too
                if lin.kind in ("draft", "submitted", "approved"):
                    for school in lin.schools:
                        quals.add((lin.versions[0].id, school.teacher_ids[0]))
        # A new teacher whose account is not active yet, already given a class this year.
        school = self.main_school
        uid = self.ids.take(User)
        first, last = self.person(rng)
        email = self.email(f"{_ascii(first)}.{_ascii(last)}", school.district.domain)
        joined = self.now_ts - 12 * DAY
        users.append(self.user_row(uid, email, first, last, joined, active=False))
        memberships.append((uid, Role.TEACHER, None, None, None, school.id, self.dt(joined)))
        lineage = next(lin for lin in school.lineages if lin.offered(self.current))
        quals.add((lineage.offered(self.current).id, uid))
        self.inactive_teacher = (uid, lineage)
        self.writer.write(User, USER_F, users)
        self.writer.write(RoleMembership, MEMBERSHIP_F, memberships)
        added = self.dt(joined_base + 30 * DAY)
        self.writer.write(
            TeacherQualification,
            ("articulation_id", "teacher_id", "added_at"),
            [(a, t, added) for a, t in sorted(quals)],
        )
        # Popularity pools per school and year (each offering repeated by its weight).
        for school in self.schools:
            for yi in range(self.n_years):
                school.pool[yi] = [
                    (school, v)
                    for lin in school.lineages
                    if (v := lin.offered(yi))
                    for _ in range(lin.weight)
                ]
                school.sc_pool[yi] = [
                    (sc, v)
                    for sc in self.served.get(school.district.id, [])
                    for lin in sc.lineages
                    if (v := lin.offered(yi))
                    for _ in range(lin.weight)
                ]

    # -- one academic year of students, classes, enrollments and fees --------------------------

    def build_year(self, yi: int) -> None:
        code = AcademicYear.code_for_start(self.year_starts[yi])
        with self.phase(f"{code}: students and class demand"):
            participants, new = self.pick_participants(yi)
            choices = self.pick_classes(yi, participants)
        with self.phase(f"{code}: classes"):
            by_student = self.build_sections(yi, choices)
        # One transaction per chunk of students keeps PostgreSQL's queue of deferred
        # foreign-key checks (and memory) small; an interrupted build is cleaned up next run.
        with self.phase(f"{code}: enrollments, histories and fees", atomic=False):
            rng = self.rng(f"enrollments:{yi}")
            for chunk in batched(participants, self.chunk_students):
                self.write_batch(self.enrollment_rows(rng, yi, chunk, by_student, new))
        # Only this year's students can continue next year.
        keep = set(participants)
        self.taken = {i: s for i, s in self.taken.items() if i in keep}
        self.last_participants = participants

    def pick_participants(self, yi: int) -> tuple[list[int], dict[int, tuple]]:
        rng = self.rng(f"students:{yi}")
        start = self.year_starts[yi]
        continuing = []
        if yi > 0:
            go_on = {9: 0.45, 10: 0.55, 11: 0.6}
            for i in self.last_participants:
                grade = 12 - (self.st_grad[i] - (start + 1)) - 1  # last year's grade
                if grade < 12 and rng.random() < go_on.get(grade, 0.5):
                    continuing.append(i)
        n_new = max(0, self.n_students - len(continuing))
        cum = list(accumulate(s.weight for s in self.schools))
        grades = _Weighted(
            ((9, 0.10), (10, 0.25), (11, 0.45), (12, 0.20))
            if yi
            else ((9, 0.08), (10, 0.22), (11, 0.35), (12, 0.35))
        )
        new: dict[int, tuple] = {}
        for _ in range(n_new):
            i = len(self.st_id)
            school = self.schools[bisect_right(cum, rng.random() * cum[-1])]
            grade = grades(rng)
            grad_year = start + 1 + (12 - grade)
            # Born between Sep 1 and Aug 31, 18 to 19 years before graduating (a few off by one).
            shift = 0 if rng.random() < 0.97 else rng.choice((-1, 1))
            born = date(grad_year - 19 + shift, 9, 1) + timedelta(days=rng.randrange(365))
            first, last = self.person(rng)
            middle = rng.choice(FIRST_NAMES) if rng.random() < 0.55 else ""
            if rng.random() < 0.06:
                last = f"{last}-{rng.choice(LAST_NAMES)}"
            sers = sers_id_from(rng)
            while sers in self.used_sers:
                sers = sers_id_from(rng)
            self.used_sers.add(sers)
            phone = (
                f"{rng.choice(AREA_CODES)}-555-01{rng.randrange(100):02d}"
                if rng.random() < 0.4
                else ""
            )
            gender = GENDERS(rng) if rng.random() < 0.7 else ""
            race = RACES(rng) if rng.random() < 0.6 else ""
            provider = ("mail", "inbox", "post")[i % 3]
            email = f"{_ascii(first)}.{_ascii(last)}{i}@{provider}{EMAIL_SUFFIX}"
            verified = rng.random() < 0.93
            self.st_id.append(self.ids.take(StudentProfile))
            self.st_user.append(self.ids.take(User))
            self.st_school.append(school)
            self.st_grad.append(grad_year)
            new[i] = (sers, first, middle, last, born, phone, gender, race, email, verified)
        return continuing + list(new), new

    def pick_classes(self, yi: int, participants: list[int]):
        """Each student's classes this year, grouped by (school, agreement version)."""
        rng = self.rng(f"classes:{yi}")
        demand: dict[tuple[int, int], list[int]] = {}
        where: dict[tuple[int, int], tuple[_School, _Version]] = {}
        for i in participants:
            school = self.st_school[i]
            pool, sc_pool = school.pool[yi], school.sc_pool[yi]
            taken = self.taken.setdefault(i, set())
            k = K_VALUES[bisect_right(K_CUM, rng.random() * K_CUM[-1])]
            picks: list[tuple[_School, _Version]] = []
            seen = set()
            if sc_pool and rng.random() < 0.22:
                for _ in range(10):
                    sc, v = rng.choice(sc_pool)
                    if v.lineage.index not in taken:
                        picks.append((sc, v))
                        seen.add(v.lineage.index)
                        break
            tries = 0
            while len(picks) < k and pool and tries < 40:
                tries += 1
                where_, v = rng.choice(pool)
                index = v.lineage.index
                if index in taken or index in seen:
                    continue
                seen.add(index)
                picks.append((where_, v))
            for where_, v in picks:
                key = (where_.id, v.id)
                if key not in demand:
                    demand[key] = []
                    where[key] = (where_, v)
                demand[key].append(i)
            taken |= seen
        return [(where[key], students) for key, students in demand.items()]

    def section_times(self, rng, school: _School, v: _Version, yi: int, term: str):
        start = self.year_starts[yi]
        policy = school.consortium.policies[yi]
        term_start = date(start + 1, 1, 28) if term == "spring" else date(start, 9, 3)
        term_end = date(start + 1, 1, 24) if term == "fall" else date(start + 1, 6, 12)
        reg_lo = self.ts(policy.opens, 7)
        reg_hi = min(self.ts(policy.closes, 22), self.ts(term_end - timedelta(days=10), 22))
        if yi == self.current:
            reg_hi = min(reg_hi, self.now_ts - 600)
        if reg_hi <= reg_lo:
            reg_lo = min(self.ts(term_start, 7), reg_hi - DAY)
        end_ts = self.ts(term_end, 15)
        grade_ts = end_ts + rng.uniform(0, 9) * DAY
        complete_ts = grade_ts + rng.uniform(0.05, 4) * DAY
        if yi != self.current or rng.random() < 0.5:  # a few stragglers every year
            roll = rng.random()
            if roll < 0.02:
                grade_ts = complete_ts = None  # never graded
            elif roll < 0.045:
                complete_ts = None  # grades entered, class never marked complete
        if grade_ts is not None and grade_ts > self.now_ts:
            grade_ts = complete_ts = None
        if complete_ts is not None and complete_ts > self.now_ts:
            complete_ts = None
        return reg_lo, reg_hi, end_ts, grade_ts, complete_ts

    def build_sections(self, yi: int, choices) -> dict[int, list[_Section]]:
        rng = self.rng(f"sections:{yi}")
        rows = []
        by_student: dict[int, list[_Section]] = defaultdict(list)
        year_id = self.year_ids[yi]
        made: list[_Section] = []
        for (school, v), students in choices:
            n = len(students)
            count = max(1, round(n / 27))
            while n / count > 34:
                count += 1
            teachers = school.teachers[v.lineage.index]
            term = school.terms[v.lineage.index]
            rng.shuffle(students)
            for j in range(count):
                teacher = teachers[j % len(teachers)]
                times = self.section_times(rng, school, v, yi, term)
                sec = _Section(self.ids.take(Section), school, v, teacher, yi, term, *times)
                made.append(sec)
                self.sections[(school.id, yi)].append(sec)
                for i in students[j::count]:
                    by_student[i].append(sec)
        if yi < self.current:
            # Every past year has at least one class graded but never completed, and one never
            # graded at all (the stale records staff chase), away from the demo teacher.
            others = [s for s in made if s.teacher_id != self.demo_teacher_id and s.complete_ts]
            if others and not any(s.grade_ts and not s.complete_ts for s in made):
                others.pop(0).complete_ts = None
            if len(others) > 1 and not any(s.grade_ts is None for s in made):
                sec = others.pop()
                sec.grade_ts = sec.complete_ts = None
        if yi == self.current:
            # The teacher whose account is not active yet: a class nobody could join so far.
            uid, lineage = self.inactive_teacher
            v = lineage.offered(yi)
            reg_lo, reg_hi, end_ts, _, _ = self.section_times(rng, self.main_school, v, yi, "year")
            made.append(
                _Section(self.ids.take(Section), self.main_school, v, uid, yi, "year", reg_lo,
                         reg_hi, end_ts, None, None)
            )  # fmt: skip
        seen: Counter[int] = Counter()
        for sec in made:
            seen[sec.teacher_id] += 1
            created = sec.reg_lo - rng.uniform(5, 25) * DAY
            done = sec.complete_ts is not None
            rows.append(
                (
                    sec.id,
                    sec.version.id,
                    sec.teacher_id,
                    sec.school.id,
                    year_id,
                    sec.term,
                    f"P{seen[sec.teacher_id]}",
                    self.dt(sec.complete_ts) if done else None,
                    sec.teacher_id if done else None,
                    self.dt(created),
                )
            )
        self.writer.write(Section, SECTION_F, rows)
        return by_student

    def lifecycle(self, rng, sec: _Section, student_user: int, specialist: int, outcome=None):
        """The status changes of one enrollment up to grading: [(ts, from, to, by, grade, why)].

        `outcome` forces a path for the hand-made demo student (registered, confirmed,
        withdrawn, attained, not_attained); otherwise it is drawn at random.
        """
        reg = rng.uniform(sec.reg_lo, max(sec.reg_lo, sec.reg_hi))
        by_staff = specialist and outcome is None and rng.random() < 0.04
        events = [
            (
                reg,
                "",
                S.REGISTERED,
                specialist if by_staff else student_user,
                "",
                "Registered at the counseling office" if by_staff else "",
            )
        ]
        teacher = sec.teacher_id
        confirm = reg + rng.uniform(0.2, 10) * DAY
        roll = rng.random() if outcome is None else 1.0
        if outcome == S.REGISTERED:
            return events
        if roll < 0.015:
            at = reg + rng.uniform(0.05, 0.9) * (confirm - reg)
            events.append(
                (at, S.REGISTERED, S.WITHDRAWN, student_user, "", rng.choice(WITHDRAW_REASONS))
            )
            return events
        if roll < 0.04:
            events.append(
                (confirm, S.REGISTERED, S.REMOVED, teacher, "", rng.choice(REMOVE_REASONS))
            )
            return events
        if roll < 0.05:
            return events  # the teacher never confirmed this one
        events.append((confirm, S.REGISTERED, S.CONFIRMED, teacher, "", ""))
        if outcome == S.CONFIRMED:
            return events
        last_day = sec.term_end - DAY
        if roll < 0.095 or outcome == S.WITHDRAWN:
            at = confirm + rng.uniform(0.1, 1) * max(HOUR, last_day - confirm)
            events.append(
                (at, S.CONFIRMED, S.WITHDRAWN, student_user, "", rng.choice(WITHDRAW_REASONS))
            )
            return events
        if roll < 0.1:
            at = confirm + rng.uniform(0.1, 1) * max(HOUR, last_day - confirm)
            events.append((at, S.CONFIRMED, S.REMOVED, teacher, "", "Stopped attending"))
            return events
        if sec.grade_ts is None:
            return events
        v = sec.version
        grade_at = max(sec.grade_ts, confirm + HOUR) + rng.uniform(0, 2) * HOUR
        grade = self.draw_grade(rng, v.scale)
        if outcome in (S.ATTAINED, S.NOT_ATTAINED):
            while self.meets(v.scale, grade, v.scale, v.minimum) != (outcome == S.ATTAINED):
                grade = self.draw_grade(rng, v.scale)
        if outcome is None and rng.random() < 0.015:  # a corrected grade
            first = self.draw_grade(rng, v.scale)
            if first != grade:
                events.append((grade_at, S.CONFIRMED, S.GRADED, teacher, first, ""))
                grade_at += rng.uniform(0.1, 1) * HOUR
                events.append(
                    (grade_at, S.GRADED, S.GRADED, teacher, grade, "Corrected a data-entry error")
                )
        if events[-1][2] != S.GRADED:
            events.append((grade_at, S.CONFIRMED, S.GRADED, teacher, grade, ""))
        if sec.complete_ts is None:
            return events
        done = max(sec.complete_ts, grade_at + 60) + rng.uniform(0, 120)
        met = self.meets(v.scale, grade, v.scale, v.minimum)
        events.append((done, S.GRADED, S.ATTAINED if met else S.NOT_ATTAINED, teacher, grade, ""))
        return events

    def transcription_dates(self, yi: int) -> list[date]:
        start = self.year_starts[yi]
        batches = [
            date(start + 1, 3, 2),
            date(start + 1, 4, 20),
            date(start + 1, 7, 10),
            date(start + 1, 8, 25),
            date(start + 1, 10, 20),
            date(start + 2, 1, 15),
            date(start + 2, 4, 15),
            date(start + 2, 10, 1),
        ]
        return [d for d in batches if d < self.today]

    def write_batch(self, batch: list[tuple[type[models.Model], tuple[str, ...], list]]) -> None:
        """Write one chunk's rows in one transaction."""
        with _loading():
            for model, fields, rows in batch:
                self.writer.write(model, fields, rows)

    def enrollment_rows(self, rng, yi, chunk, by_student, new):
        """The rows of one chunk of students: accounts of new students, their enrollments
        with histories, and their fees, as a batch for `write_batch`."""
        age = self.current - yi
        p_transcribe = 0.5 if age == 0 else 0.8 if age == 1 else 0.97
        batches = self.transcription_dates(yi)
        users, profiles, enrollments, histories, fees = [], [], [], [], []
        now_ts = self.now_ts
        for i in chunk:
            school = self.st_school[i]
            c = school.consortium
            policy = c.policies[yi]
            sid, uid = self.st_id[i], self.st_user[i]
            specialist = school.district.specialist_id
            plans = [
                (sec, self.lifecycle(rng, sec, uid, specialist)) for sec in by_student.get(i, ())
            ]
            if plans:
                first_reg = min(events[0][0] for _, events in plans)
            else:  # signed up, found no class with room
                first_reg = min(self.ts(policy.opens, 12), now_ts - DAY)
            if i in new:
                sers, first, middle, last_name, born, phone, gender, race, email, verified = new[i]
                joined = first_reg - rng.uniform(0.2, 20) * HOUR
                users.append(
                    (
                        uid,
                        self.password,
                        None,
                        False,
                        email,
                        first,
                        last_name,
                        True,
                        False,
                        self.dt(joined),
                        self.dt(joined + 300) if verified else None,
                    )
                )
                profiles.append(
                    (
                        sid,
                        uid,
                        sers,
                        first,
                        middle,
                        last_name,
                        born,
                        phone,
                        school.id,
                        self.st_grad[i],
                        gender,
                        race,
                        self.dt(joined + 60),
                        self.dt(joined + 60),
                    )
                )
            if not plans:
                continue
            # The fee: one per student per consortium per year.
            fee, settled_on = self.fee_row(rng, c, policy, sid, yi, first_reg)
            fees.append(fee)
            for sec, events in plans:
                last = events[-1]
                if last[2] == S.ATTAINED and settled_on is not None and rng.random() < p_transcribe:
                    ready = max(self.day_of(last[0]), settled_on) + timedelta(days=1)
                    day = next((d for d in batches if d >= ready), None)
                    if day is not None:
                        at = max(self.ts(day, 9) + rng.uniform(0, 7) * HOUR, last[0] + 60)
                        registrar = sec.version.college.registrar_id
                        events.append((at, S.ATTAINED, S.TRANSCRIBED, registrar, last[4], ""))
                if age == 0 or events[-1][0] > now_ts:
                    events = [e for e in events if e[0] <= now_ts]
                    if not events:
                        continue
                eid = self.ids.take(Enrollment)
                enrollments.append(self.enrollment_row(eid, sid, sec, events, i))
                histories += [
                    (eid, f, t, g if t in GRADED_STATUSES else "", by, self.dt(at), why)
                    for at, f, t, by, g, why in events
                ]
        return [
            (User, USER_F, users),
            (StudentProfile, PROFILE_F, profiles),
            (Enrollment, ENROLLMENT_F, enrollments),
            (EnrollmentStatusChange, HISTORY_F, histories),
            (Fee, FEE_F, fees),
        ]

    def enrollment_row(self, eid, sid, sec, events, student_index):
        last = events[-1]
        status = last[2]
        grade, graded_at, graded_by = "", None, None
        for at, _f, t, by, g, _why in events:
            if t == S.GRADED:
                grade, graded_at, graded_by = g, self.dt(at), by
        transcribed_on, college_sid = None, ""
        if status == S.TRANSCRIBED:
            transcribed_on = self.day_of(last[0])
            college = sec.version.college
            college_sid = f"9{(student_index * 7919 + college.id * 104_729) % 100_000_000:08d}"
        registered_by = events[0][3] if events[0][3] != self.st_user[student_index] else None
        return (
            eid,
            sid,
            sec.id,
            status,
            grade,
            graded_at,
            graded_by,
            college_sid,
            transcribed_on,
            registered_by,
            self.dt(events[0][0]),
            self.dt(last[0]),
        )

    def fee_row(self, rng, c: _Consortium, policy: _Policy, sid: int, yi: int, first_reg):
        """One fee row, and the day it was settled (None while unpaid)."""
        year_id = self.year_ids[yi]
        amount = policy.fee
        first_day = self.day_of(first_reg)
        updated = self.dt(first_reg)
        if amount == 0:
            # Nothing to pay: the fee row exists (amount 0) and counts as settled.
            return (
                sid,
                c.id,
                year_id,
                amount,
                Fee.Status.UNPAID,
                None,
                None,
                "",
                "",
                None,
                updated,
            ), first_day
        roll = rng.random()
        if roll < 0.12:
            day = first_day + timedelta(days=rng.randint(1, 30))
            if day <= self.today:
                reason = rng.choice(policy.waivers)
                return (
                    sid,
                    c.id,
                    year_id,
                    amount,
                    Fee.Status.WAIVED,
                    None,
                    None,
                    "",
                    reason,
                    c.admin_id,
                    self.dt(self.ts(day, 10)),
                ), day
        elif roll < 0.82:
            day = min(first_day + timedelta(days=rng.randint(1, 75)), policy.payment_deadline)
            day = max(day, first_day)
            if day <= self.today:
                c.receipts += 1
                receipt = f"{c.spec.code}{self.year_starts[yi] % 100:02d}-{c.receipts:06d}"
                by = c.admin_id if rng.random() < 0.7 else None  # else a payment webhook
                return (
                    sid,
                    c.id,
                    year_id,
                    amount,
                    Fee.Status.PAID,
                    amount,
                    day,
                    receipt,
                    "",
                    by,
                    self.dt(self.ts(day, 12)),
                ), day
        return (
            sid,
            c.id,
            year_id,
            amount,
            Fee.Status.UNPAID,
            None,
            None,
            "",
            "",
            None,
            updated,
        ), None

    # -- the hand-made demo persona --------------------------------------------------------------

    def build_demo_student(self) -> None:
        """student@demo: last year a transcribed, an eligible attained and a not-attained
        credit; this year registered, confirmed and withdrawn classes (and more when the
        calendar allows)."""
        rng = self.rng("demo-student")
        school = self.main_school
        c = school.consortium
        start = self.year_starts[self.current]
        grad_year = start + 2  # a junior
        born = date(grad_year - 19, 9, 1) + timedelta(days=rng.randrange(365))
        sers = sers_id_from(rng)
        while sers in self.used_sers:
            sers = sers_id_from(rng)
        self.used_sers.add(sers)
        i = len(self.st_id)
        sid, uid = self.ids.take(StudentProfile), self.ids.take(User)
        self.st_id.append(sid)
        self.st_user.append(uid)
        self.st_school.append(school)
        self.st_grad.append(grad_year)
        college0 = c.colleges[0]

        def pick(yi, want_done: bool, avoid: set[int]):
            found = [
                s
                for s in self.sections[(school.id, yi)]
                if s.version.lineage.index not in avoid
                and s.teacher_id != self.inactive_teacher[0]
                and (s.complete_ts is not None) == want_done
            ]
            found.sort(key=lambda s: (s.version.college is not college0, s.id))
            return found

        plans = []
        taken: set[int] = set()
        previous = self.current - 1
        done_last_year = pick(previous, True, taken)
        for outcome in (S.ATTAINED, S.ATTAINED, S.NOT_ATTAINED):
            sec = next((s for s in done_last_year if s.version.lineage.index not in taken), None)
            if sec is None:
                continue
            taken.add(sec.version.lineage.index)
            plans.append((previous, sec, self.lifecycle(rng, sec, uid, 0, outcome)))
        open_now = pick(self.current, False, taken) or pick(self.current, True, taken)
        for outcome in (S.REGISTERED, S.CONFIRMED, S.WITHDRAWN):
            sec = next((s for s in open_now if s.version.lineage.index not in taken), None)
            if sec is None:
                continue
            taken.add(sec.version.lineage.index)
            # Recent, readable dates: within the last few weeks, never before the window.
            days = {S.REGISTERED: 3, S.CONFIRMED: 20, S.WITHDRAWN: 26}[outcome]
            lo = max(sec.reg_lo, self.now_ts - days * DAY)
            tight = _Section(
                sec.id,
                sec.school,
                sec.version,
                sec.teacher_id,
                sec.year_index,
                sec.term,
                lo,
                max(lo, min(sec.reg_hi, lo + DAY)),
                min(sec.term_end, self.now_ts - HOUR),
                None,
                None,
            )
            events = self.lifecycle(rng, tight, uid, 0, outcome)
            plans.append((self.current, sec, [e for e in events if e[0] <= self.now_ts]))
        enrollments, histories, fees = [], [], []
        first_reg = min(events[0][0] for _, _, events in plans)
        fee_paid: dict[int, date] = {}
        for yi in {yi for yi, _, _ in plans}:
            policy = c.policies[yi]
            regs = [events[0][0] for y, _, events in plans if y == yi]
            day = self.day_of(min(regs)) + timedelta(days=4)
            if yi == self.current or policy.fee == 0:
                status, paid = (Fee.Status.UNPAID, None)
            else:
                status, paid = (Fee.Status.PAID, min(day, policy.payment_deadline))
                fee_paid[yi] = paid
            c.receipts += 1
            fees.append(
                (
                    sid,
                    c.id,
                    self.year_ids[yi],
                    policy.fee,
                    status,
                    policy.fee if paid else None,
                    paid,
                    f"{c.spec.code}-DEMO-{c.receipts:06d}" if paid else "",
                    "",
                    c.admin_id if paid else None,
                    self.dt(min(regs)),
                )
            )
        transcribed_one = False
        for yi, sec, events in plans:
            last = events[-1]
            if last[2] == S.ATTAINED and not transcribed_one and yi in fee_paid:
                transcribed_one = True
                day = min(
                    self.today - timedelta(days=1),
                    max(self.day_of(last[0]), fee_paid[yi]) + timedelta(days=14),
                )
                at = min(max(self.ts(day, 10), last[0] + 60), self.now_ts - 60)
                events.append(
                    (at, S.ATTAINED, S.TRANSCRIBED, sec.version.college.registrar_id, last[4], "")
                )
            eid = self.ids.take(Enrollment)
            enrollments.append(self.enrollment_row(eid, sid, sec, events, i))
            histories += [
                (eid, f, t, g if t in GRADED_STATUSES else "", by, self.dt(at), why)
                for at, f, t, by, g, why in events
            ]
        joined = first_reg - 2 * DAY
        w = self.writer
        w.write(
            User,
            USER_F,
            [
                self.user_row(
                    uid, self.email("student", DEMO_DOMAIN), "Riley", "Okafor-Lund", joined
                )
            ],
        )
        w.write(
            StudentProfile,
            PROFILE_F,
            [
                (
                    sid,
                    uid,
                    sers,
                    "Riley",
                    "Jordan",
                    "Okafor-Lund",
                    born,
                    "360-555-0142",
                    school.id,
                    grad_year,
                    "nonbinary",
                    "multiracial",
                    self.dt(joined),
                    self.dt(joined),
                )
            ],
        )
        w.write(Enrollment, ENROLLMENT_F, enrollments)
        w.write(EnrollmentStatusChange, HISTORY_F, histories)
        w.write(Fee, FEE_F, fees)

    def build_admin(self) -> None:
        uid = self.ids.take(User)
        joined = self.ts(date(self.year_starts[0] - 1, 8, 1), 9)
        self.writer.write(
            User,
            USER_F,
            [
                self.user_row(
                    uid, self.email("admin", DEMO_DOMAIN), "Site", "Administrator", joined, su=True
                )
            ],
        )


@contextmanager
def _nothing():
    yield


@contextmanager
def _loading():
    """A transaction for bulk loading. On PostgreSQL its commit does not wait for the write-
    ahead log to reach the disk (the server flushes it in the background while the next
    chunk is generated); a server crash could lose the last chunks, never corrupt them."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def _m2m(model: type[models.Model], name: str):
    """The auto-created through model of a many-to-many field and its two id columns."""
    m2m = model._meta.get_field(name)
    through = m2m.remote_field.through
    src = through._meta.get_field(m2m.m2m_field_name()).attname
    dst = through._meta.get_field(m2m.m2m_reverse_field_name()).attname
    return through, src, dst


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def demo_data_exists() -> bool:
    """A finished build: the superuser is written last, in the final phase."""
    return User.objects.filter(email=ADMIN_EMAIL).exists()


def demo_data_partial() -> bool:
    """Left-overs of an interrupted build (or demo rows without the final marker)."""
    return (
        Consortium.objects.filter(slug__in=ALL_SLUGS).exists()
        or User.objects.filter(email__iendswith=EMAIL_SUFFIX).exists()
    )


def build_demo_data(
    *,
    students_per_year: int = STUDENTS_PER_YEAR["small"],
    years: int = 2,
    seed: int = 2026,
    use_copy: bool | None = None,
    log: Callable[[str], None] | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> BuildResult:
    builder = DemoDataBuilder(
        students_per_year=students_per_year,
        years=years,
        seed=seed,
        use_copy=use_copy,
        log=log,
        today=today,
        now=now,
    )
    return builder.build()


def delete_demo_data(*, log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Delete the demo consortia (with everything under them) and every demo account.

    Anything that points at a demo row goes with it (a sign-up made at a demo school while
    trying the demo, say); SET_NULL references are cleared instead. Bulk, not row by row.
    """
    log = log or (lambda message: None)
    start = time.perf_counter()
    deleted: Counter[str] = Counter()
    if connection.vendor == "postgresql" and not connection.in_atomic_block and _only_demo_data():
        # Every account and consortium is demo data: TRUNCATE (cascading to every table that
        # references them) is equivalent, and far faster than deleting millions of rows.
        quote = connection.ops.quote_name
        tables = ", ".join(quote(m._meta.db_table) for m in (User, Consortium))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        log(f"[{time.perf_counter() - start:7.1f}s] emptied the demo tables (only demo data)")
        return {"truncated": 1}
    tables = set(connection.introspection.table_names())
    with transaction.atomic():
        _purge(Consortium.objects.filter(slug__in=ALL_SLUGS), deleted, tables)
        _purge(User.objects.filter(email__iendswith=EMAIL_SUFFIX), deleted, tables)
    total = sum(deleted.values())
    log(f"[{time.perf_counter() - start:7.1f}s] deleted {total:,} demo rows")
    return dict(deleted)


def _only_demo_data() -> bool:
    return (
        Consortium.objects.exists()
        and not User.objects.exclude(email__iendswith=EMAIL_SUFFIX).exists()
        and not Consortium.objects.exclude(slug__in=ALL_SLUGS).exists()
    )


def _purge(qs: models.QuerySet, deleted: Counter, tables: set[str], depth: int = 0) -> None:
    """Delete `qs` and, first, every row that references it (recursively), in bulk.

    Tables not created yet (a model whose migration has not run) are skipped."""
    model = qs.model
    if depth > 12:
        raise RuntimeError(f"Reference chain too deep while deleting {model._meta.label}.")
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        child, fk = rel.related_model, rel.field
        if child is model and fk.null:
            # A revision's previous version: unlinked first, so that Django's delete (used
            # when someone listens for it) does not refuse a protected self reference.
            qs.filter(**{f"{fk.name}__isnull": False}).update(**{fk.name: None})
            continue
        if child is model or child._meta.db_table not in tables:
            continue  # other self references go in the same statement
        on_delete = getattr(rel, "on_delete", None)
        if on_delete is models.DO_NOTHING:
            continue
        children = child._base_manager.filter(**{f"{fk.name}__in": qs})
        if on_delete is models.SET_NULL:
            children.update(**{fk.name: None})
            continue
        _purge(children, deleted, tables, depth + 1)
    if signals.pre_delete.has_listeners(model) or signals.post_delete.has_listeners(model):
        count, _ = qs.delete()  # someone listens: let Django send the signals
    else:
        count = qs._raw_delete(qs.db)
    if count:
        deleted[model._meta.label] += count


def demo_logins() -> list[DemoLogin]:
    """The demo accounts for every role, as they are in the database."""
    order = [
        "student",
        "teacher",
        "specialist",
        "registrar",
        "approver",
        "consortium",
        "state",
        "admin",
    ]
    emails = [f"{name}@{DEMO_DOMAIN}" for name in order]
    users = {
        u.email: u
        for u in User.objects.filter(email__in=emails).prefetch_related(
            "memberships__consortium",
            "memberships__college",
            "memberships__district",
            "memberships__high_school",
        )
    }
    profiles = {
        p.user_id: p
        for p in StudentProfile.objects.filter(user__email__in=emails).select_related("high_school")
    }
    logins = []
    for email in emails:
        user = users.get(email)
        if user is None:
            continue
        if user.is_superuser:
            logins.append(DemoLogin(email, "Django superuser", "everything (/admin/)"))
            continue
        if user.pk in profiles:
            p = profiles[user.pk]
            logins.append(
                DemoLogin(email, "Student", f"self: SERS ID {p.sers_id}, {p.high_school.name}")
            )
        for m in user.memberships.all():
            scope = m.scope
            logins.append(
                DemoLogin(
                    email, m.get_role_display(), str(scope) if scope is not None else "statewide"
                )
            )
    return logins


def format_logins(logins: Iterable[DemoLogin]) -> str:
    rows = [("email", "password", "role", "scope")]
    rows += [(x.email, x.password, x.role, x.scope) for x in logins]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main_consortium_window() -> tuple[str, date, date] | None:
    """The main demo consortium's registration window this year (printed for the demo)."""
    policy = (
        ConsortiumPolicy.objects.filter(consortium__slug=CONSORTIA[0].slug)
        .select_related("consortium", "academic_year")
        .order_by("-academic_year__start_date")
        .first()
    )
    if policy is None:
        return None
    return policy.consortium.name, policy.registration_opens, policy.registration_closes


__all__ = [
    "ADMIN_EMAIL",
    "DEMO_DOMAIN",
    "DEMO_PASSWORD",
    "STUDENTS_PER_YEAR",
    "BuildResult",
    "DemoDataBuilder",
    "DemoLogin",
    "build_demo_data",
    "delete_demo_data",
    "demo_data_exists",
    "demo_data_partial",
    "demo_logins",
    "format_logins",
    "main_consortium_window",
]
