"""The state one demo build shares between its phases: settings, clock, seeds and the plan."""

import random
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, date, datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from enrollment.models import StudentProfile
from organisations.grades import meets_minimum
from organisations.models import AcademicYear

from . import plan
from .constants import DEMO_PASSWORD, HOUR, MIN_STUDENTS, STATE_NAMES_FROM, STUDENTS_PER_YEAR
from .rows import Ids, RowWriter, loading, nothing
from .vocabulary import FIRST_NAMES, LAST_NAMES, PLACE_A, PLACE_B, state_person


class DemoBuild:
    """One build's settings, clock, random streams, writer and the plan filled so far.

    The phases (organisations, articulations, people, each year's classes and enrollments,
    the demo student) are functions of this object; `demo.build.build_demo_data` runs them."""

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
        # A state's names at a state's frequencies from this size up; the small demo keeps
        # its short list of easy-to-read names.
        self.state_names = students_per_year >= STATE_NAMES_FROM
        self.n_years = years
        self.seed = seed
        self.now = now or timezone.now()
        self.today = today or timezone.localdate(self.now)
        self.now_ts = self.now.timestamp()
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.log = log or (lambda message: None)
        self.writer = RowWriter(use_copy=use_copy)
        self.ids = Ids()
        self.phases: list[tuple[str, float]] = []
        self.t0 = time.perf_counter()
        current = self.today.year if self.today.month >= 7 else self.today.year - 1
        self.year_starts = [current - i for i in range(years - 1, -1, -1)]  # oldest first
        self.current = years - 1
        self.password = make_password(DEMO_PASSWORD)  # hashed once, shared by every account
        self._emails: set[str] = set()
        self._places = self._place_names()
        self._meets: dict[tuple[str, str, str, str], bool] = {}

        # The plan, filled by the phases in order.
        self.year_ids: list[int] = []  # per year index
        self.consortia: list[plan.Consortium] = []
        self.schools: list[plan.School] = []  # regular high schools, where students belong
        self.served: dict[int, list[plan.School]] = {}  # district id -> skills centers serving it
        self.lineages: list[plan.Lineage] = []
        self.articulation_changes: list[tuple] = []  # written once the people exist
        self.demo_teacher_id = 0
        self.inactive_teacher: tuple[int, plan.Lineage] | None = None
        # Students: parallel lists indexed by student number.
        self.st_id: list[int] = []
        self.st_user: list[int] = []
        self.st_school: list[plan.School] = []
        self.st_grad: list[int] = []
        self.taken: dict[int, set[int]] = {}  # student -> lineages taken in earlier years
        self.last_participants: list[int] = []
        self.sections: dict[tuple[int, int], list[plan.Section]] = defaultdict(list)
        self.used_sers: set[str] = set(StudentProfile.objects.values_list("sers_id", flat=True))

    @property
    def main(self) -> plan.Consortium:
        """The consortium the demo logins work in."""
        return self.consortia[0]

    @property
    def main_school(self) -> plan.School:
        """The demo teacher's and the demo student's school."""
        return self.main.schools[0]

    def rng(self, name: str) -> random.Random:
        """An independent, seeded stream per purpose, so one phase never shifts another."""
        return random.Random(f"{self.seed}:{name}")

    @contextmanager
    def phase(self, name: str, *, atomic: bool = True):
        start = time.perf_counter()
        with loading() if atomic else nothing():
            yield
        took = time.perf_counter() - start
        self.phases.append((name, took))
        self.log(f"[{time.perf_counter() - self.t0:7.1f}s] {name} ({took:.1f}s)")

    def year_code(self, yi: int) -> str:
        return AcademicYear.code_for_start(self.year_starts[yi])

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

    def person(self, rng: random.Random) -> tuple[str, str]:
        if self.state_names:
            return state_person(rng)
        return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)

    def given_name(self, rng: random.Random) -> str:
        return state_person(rng)[0] if self.state_names else rng.choice(FIRST_NAMES)

    def family_name(self, rng: random.Random) -> str:
        return state_person(rng)[1] if self.state_names else rng.choice(LAST_NAMES)

    def meets(self, scale: str, grade: str, min_scale: str, minimum: str) -> bool:
        key = (scale, grade, min_scale, minimum)
        if key not in self._meets:
            self._meets[key] = meets_minimum(
                scale=scale, grade=grade, minimum_scale=min_scale, minimum=minimum
            )
        return self._meets[key]
