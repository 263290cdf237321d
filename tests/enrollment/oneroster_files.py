"""A small generator of OneRoster 1.2 CSV exports, as a school's student information
system writes them: a byte-order mark, CRLF line ends, every column of the specification
in its order, quoted values holding commas ("s1,s2", "Design, Level 1"), accented names.
Used by the tests (tests/enrollment/test_oneroster_*.py) and the benchmark
(bench/bench_oneroster.py). Synthetic data only.

    export = Export(school_code=school.code)
    course = export.add_course("Web Design", code="CTE-WEB")
    teacher = export.add_teacher("Terry", "Cascade", email="terry@example.org")
    klass = export.add_class("Web Design 1", course, period="3", teacher=teacher)
    student = export.add_student("José", "Núñez", email="jose@example.org")
    export.enroll(klass, student)
    export.uploads()             # [one .zip]; uploads(zipped=False): the seven .csv files
    export.lines["enrollments.csv"].append("raw line")   # a hand-made line, written as is
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

COLUMNS = {
    "orgs.csv": ("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"),
    "academicSessions.csv": (
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
    ),
    "courses.csv": (
        "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
        "orgSourcedId,subjects,subjectCodes"
    ),
    "classes.csv": (
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
    ),
    "users.csv": (
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
        "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
        "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
        "preferredFamilyName,primaryOrgSourcedId,pronouns"
    ),
    "enrollments.csv": (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate"
    ),
}
FILES = ("manifest.csv", *COLUMNS)
TERMS = {"year": "sy", "fall": "s1", "spring": "s2"}
ALL_FILES = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "orgs",
    "resources",
    "results",
    "resultLearningObjectiveIds",
    "resultScoreScales",
    "roles",
    "scoreScales",
    "userProfiles",
    "userResources",
    "users",
)
READ = {"academicSessions", "classes", "courses", "enrollments", "orgs", "users"}


@dataclass
class Export:
    """One school's export (2026-27). Rows are dicts; `lines` holds raw lines to add."""

    school_code: str = "HS00001"
    school_name: str = "Cascade High School"
    school_id: str = "org-school-1"
    district_id: str = "org-district-1"
    rows: dict = field(default_factory=dict)
    lines: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    columns: dict = field(default_factory=lambda: dict(COLUMNS))  # the header of each file
    _n: int = 0

    def __post_init__(self):
        self.rows = {name: [] for name in COLUMNS}
        self.lines = {name: [] for name in FILES}
        self.manifest = {
            "manifest.version": "1.0",
            "oneroster.version": "1.2",
            **{f"file.{name}": "bulk" if name in READ else "absent" for name in ALL_FILES},
            "source.systemName": "Synthetic SIS",
            "source.systemCode": "SYN",
        }
        self.add("orgs.csv", sourcedId=self.district_id, name="Cascade District", type="district")
        self.add(
            "orgs.csv",
            sourcedId=self.school_id,
            name=self.school_name,
            type="school",
            identifier=self.school_code,
            parentSourcedId=self.district_id,
        )
        year = {"type": "schoolYear", "schoolYear": "2027"}
        self.add(
            "academicSessions.csv",
            sourcedId="sy",
            title="2026-2027",
            startDate="2026-08-26",
            endDate="2027-06-15",
            **year,
        )
        for sourced_id, title, start, end in (
            ("s1", "Fall Semester", "2026-08-26", "2027-01-22"),
            ("s2", "Spring Semester", "2027-01-25", "2027-06-15"),
        ):
            self.add(
                "academicSessions.csv",
                sourcedId=sourced_id,
                title=title,
                type="semester",
                startDate=start,
                endDate=end,
                parentSourcedId="sy",
                schoolYear="2027",
            )

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    def add(self, file: str, **values) -> dict:
        row = dict.fromkeys(COLUMNS[file].split(","), "") | values
        self.rows[file].append(row)
        return row

    def add_course(self, title: str, *, code: str = "", school: str | None = None) -> str:
        sourced_id = self._id("course")
        self.add(
            "courses.csv",
            sourcedId=sourced_id,
            schoolYearSourcedId="sy",
            title=title,
            courseCode=code,
            grades="11,12",
            orgSourcedId=school or self.school_id,
            subjects="Career and Technical Education",
        )
        return sourced_id

    def add_class(
        self,
        title: str,
        course: str,
        *,
        period: str = "1",
        term: str = "year",
        teacher: str | None = None,
        code: str = "",
        school: str | None = None,
    ) -> str:
        sourced_id = self._id("class")
        self.add(
            "classes.csv",
            sourcedId=sourced_id,
            title=title,
            grades="11,12",
            courseSourcedId=course,
            classCode=code or sourced_id.upper(),
            classType="scheduled",
            location=f"Room {100 + self._n}",
            schoolSourcedId=school or self.school_id,
            termSourcedIds="s1,s2" if term == "year" else TERMS[term],
            periods=period,
        )
        if teacher:
            self.enroll(sourced_id, teacher, role="teacher", primary=True)
        return sourced_id

    def _user(self, given, family, *, email, identifier, middle="", preferred="", grades=""):
        sourced_id = self._id("user")
        self.add(
            "users.csv",
            sourcedId=sourced_id,
            enabledUser="true",
            username=email or sourced_id,
            userIds=f"{{SIS:{identifier or sourced_id}}}",
            givenName=given,
            familyName=family,
            middleName=middle,
            identifier=identifier,
            email=email,
            grades=grades,
            preferredGivenName=preferred,
            primaryOrgSourcedId=self.school_id,
        )
        return sourced_id

    def add_teacher(self, given: str, family: str, *, email: str = "") -> str:
        return self._user(given, family, email=email, identifier="")

    def add_student(
        self,
        given: str,
        family: str,
        *,
        middle: str = "",
        email: str = "",
        identifier: str = "",
        preferred: str = "",
    ) -> str:
        identifier = identifier or f"{900000 + self._n}"
        return self._user(
            given,
            family,
            email=email,
            identifier=identifier,
            middle=middle,
            preferred=preferred,
            grades="11",
        )

    def enroll(
        self,
        klass: str,
        user: str,
        *,
        role: str = "student",
        primary: bool = False,
        school: str | None = None,
        end: date | None = None,
    ) -> dict:
        return self.add(
            "enrollments.csv",
            sourcedId=self._id("enr"),
            classSourcedId=klass,
            schoolSourcedId=school or self.school_id,
            userSourcedId=user,
            role=role,
            primary="true" if primary else "false",
            beginDate="2026-08-26",
            endDate=end.isoformat() if end else "",
        )

    # --- writing -------------------------------------------------------------------------------

    def text(self, name: str, *, crlf: bool = True, delimiter: str = ",") -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n", delimiter=delimiter)
        if name == "manifest.csv":
            writer.writerow(["propertyName", "value"])
            writer.writerows(self.manifest.items())
        else:
            columns = self.columns[name].split(",")
            writer.writerow(columns)
            for row in self.rows[name]:
                writer.writerow([row.get(column, "") for column in columns])
        for line in self.lines[name]:
            out.write(line + ("\r\n" if crlf else "\n"))
        return out.getvalue()

    def files(self, *, bom: bool = True, encoding: str = "utf-8") -> dict[str, bytes]:
        prefix = "\ufeff" if bom and encoding == "utf-8" else ""
        return {name: (prefix + self.text(name)).encode(encoding) for name in FILES}

    def zip_bytes(self, *, folder: str = "", **options) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files(**options).items():
                archive.writestr(folder + name, content)
        return out.getvalue()

    def uploads(self, *, zipped: bool = True, only=None, **options) -> list[SimpleUploadedFile]:
        if zipped:
            return [SimpleUploadedFile("oneroster.zip", self.zip_bytes(**options))]
        return [
            SimpleUploadedFile(name, content, content_type="text/csv")
            for name, content in self.files(**options).items()
            if only is None or name in only
        ]


def large_school(
    *, school_code: str, students: int = 2500, classes: int = 150, per_student: int = 5
) -> Export:
    """A large high school: `classes` classes of `classes // 5` courses, each with its
    teacher, and `students` students in `per_student` classes each."""
    export = Export(school_code=school_code)
    courses = [
        export.add_course(f"Course {n}, Level {n % 3 + 1}", code=f"C{n:03d}")
        for n in range(max(1, classes // 5))
    ]
    teachers = [
        export.add_teacher(f"Teacher{n}", f"Staff{n}", email=f"teacher{n}@school.example.org")
        for n in range(max(1, classes // 5))
    ]
    class_ids = [
        export.add_class(
            f"Class {n}",
            courses[n % len(courses)],
            period=str(n % 7 + 1),
            teacher=teachers[n % len(teachers)],
        )
        for n in range(classes)
    ]
    for n in range(students):
        student = export.add_student(
            f"Éva{n}", f"Núñez-O'Brien{n}", email=f"s{n}@students.example.org"
        )
        for k in range(per_student):
            export.enroll(class_ids[(n * per_student + k) % classes], student)
    return export


# --- an export of a place of tests/world.py ---------------------------------------------------


UNREGISTERED = (("Zoë", "Ångström"), ("Mateo", "O'Connor-Díaz"))


def export_for_place(place, *, with_emails: bool = True) -> tuple[Export, str]:
    """The export of the place's school: its class (course title, teacher, period as SERS
    has them) with the place's registered students (the first with their email, the others
    by name alone) and two students who never registered; plus a chemistry class nobody
    maps. Returns (export, the class's sourcedId)."""
    section = place.section
    export = Export(school_code=place.school.code, school_name=place.school.name)
    course = export.add_course(section.articulation.high_school_course.title, code="CTE-101")
    teacher = export.add_teacher(
        section.teacher.first_name, section.teacher.last_name, email=section.teacher.email
    )
    period = "".join(ch for ch in section.section_code if ch.isdigit()) or "1"
    klass = export.add_class(
        f"{section.articulation.high_school_course.title}, Period {period}",
        course,
        period=period,
        teacher=teacher,
    )
    for n, student in enumerate(place.students):
        email = student.user.email if with_emails and n == 0 else ""
        sis_id = export.add_student(student.legal_first_name, student.legal_last_name, email=email)
        export.enroll(klass, sis_id)
    for given, family in UNREGISTERED:
        export.enroll(klass, export.add_student(given, family))
    chemistry = export.add_class(
        "Chemistry", export.add_course("Chemistry", code="SCI-200"), period="5", term="fall"
    )
    export.enroll(chemistry, export.add_student("Ana", "Lima"))
    return export, klass
