"""The in-memory plan of what the demo builds: consortia, schools, agreements and classes."""

# The phases fill these as they write rows, so later phases can link to earlier rows (their
# ids are handed out in advance) without reading them back.

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from articulations.models import Articulation

from .catalog import ConsortiumSpec, CourseTemplate

A = Articulation.Status


@dataclass(slots=True)
class Policy:
    opens: date
    closes: date
    payment_deadline: date
    grading_deadline: date
    fee: Decimal
    scale: str
    minimum: str
    waivers: list[str]


@dataclass(slots=True, eq=False)
class College:
    index: int
    id: int
    name: str
    code: str
    domain: str
    registrar_id: int = 0
    approver_id: int = 0
    course_ids: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class District:
    id: int
    name: str
    code: str
    domain: str
    specialist_id: int = 0


@dataclass(slots=True, eq=False)
class School:
    id: int
    name: str
    kind: str
    consortium: "Consortium"
    district: District
    weight: float = 1.0
    lineages: list["Lineage"] = field(default_factory=list)
    terms: dict[int, str] = field(default_factory=dict)  # lineage index -> term
    teachers: dict[int, list[int]] = field(default_factory=dict)  # lineage index -> user ids
    teacher_ids: list[int] = field(default_factory=list)
    # per year index: offerings (pool with repeats for popularity) here and at skills centers
    pool: dict[int, list[tuple["School", "Version"]]] = field(default_factory=dict)
    sc_pool: dict[int, list[tuple["School", "Version"]]] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Version:
    id: int
    lineage: "Lineage"
    version: int
    status: str
    years: set[int]  # year indexes
    scale: str
    minimum: str
    college: College


@dataclass(slots=True, eq=False)
class Lineage:
    index: int
    template: CourseTemplate
    kind: str  # revision / expired / pending / draft / submitted / approved / active
    college: College
    weight: int
    versions: list[Version] = field(default_factory=list)
    schools: list[School] = field(default_factory=list)

    def offered(self, year_index: int) -> "Version | None":
        for v in self.versions:
            if year_index in v.years and v.status in (A.ACTIVE, A.EXPIRED, A.RETIRED):
                return v
        return None


@dataclass(slots=True, eq=False)
class Consortium:
    index: int
    spec: ConsortiumSpec
    id: int
    colleges: list[College] = field(default_factory=list)
    districts: list[District] = field(default_factory=list)
    schools: list[School] = field(default_factory=list)  # regular high schools
    skills_centers: list[School] = field(default_factory=list)
    policies: dict[int, Policy] = field(default_factory=dict)
    lineages: list[Lineage] = field(default_factory=list)
    admin_id: int = 0
    receipts: int = 0


@dataclass(slots=True, eq=False)
class Section:
    id: int
    school: School
    version: Version
    teacher_id: int
    year_index: int
    term: str
    reg_lo: float
    reg_hi: float
    term_end: float
    grade_ts: float | None
    complete_ts: float | None
