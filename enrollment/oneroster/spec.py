"""The OneRoster CSV files SERS reads, their columns and the values each allows, after the
1EdTech OneRoster 1.2 CSV binding (version 1.1 files are read the same way: the columns
SERS uses did not change).

A file's header names its columns; SERS needs the `required` ones (in any order, in any
letter case) and reads the `optional` ones when they are there; any other column (roles,
demographics, metadata.*) is left alone. Required columns must be filled in every row.
"""

from dataclasses import dataclass, field

MANIFEST = "manifest.csv"
VERSIONS = ("1.2", "1.1")  # oneroster.version values SERS reads

# Values of `status`: bulk exports leave it empty or write "active"; a row marked
# "tobedeleted" is not in the school any more and is passed over.
ACTIVE, TO_BE_DELETED = "active", "tobedeleted"
STATUSES = frozenset({ACTIVE, TO_BE_DELETED})
# The manifest's value for each file: the whole school (bulk), changes only (delta), none.
BULK, DELTA, ABSENT = "bulk", "delta", "absent"
MODES = frozenset({BULK, DELTA, ABSENT})

ORG_TYPES = frozenset({"department", "district", "local", "national", "school", "state"})
SESSION_TYPES = frozenset({"gradingPeriod", "semester", "schoolYear", "term"})
CLASS_TYPES = frozenset({"homeroom", "scheduled"})
ROLES = frozenset({"administrator", "proctor", "student", "teacher"})
BOOLEANS = frozenset({"true", "false"})
EXTENSION_PREFIX = "ext:"  # OneRoster 1.2: any enumeration may be extended as ext:<name>

STUDENT, TEACHER, SCHOOL = "student", "teacher", "school"

# The longest value SERS keeps of each column it stores (the models' max_length: a test
# checks that they agree). A longer one is a problem of its line, not a cut.
ID_LENGTH = 255


@dataclass(frozen=True)
class FileSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    enums: dict[str, frozenset[str]] = field(default_factory=dict)
    dates: tuple[str, ...] = ()  # YYYY-MM-DD
    booleans: tuple[str, ...] = ()
    lengths: dict[str, int] = field(default_factory=dict)
    lists: tuple[str, ...] = ()  # several values in one cell, separated by commas

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


_COMMON = ("status", "dateLastModified")

ORGS = FileSpec(
    "orgs.csv",
    required=("sourcedId", "name", "type"),
    optional=(*_COMMON, "identifier", "parentSourcedId"),
    enums={"type": ORG_TYPES},
    lengths={"sourcedId": ID_LENGTH, "name": 255, "identifier": 100},
)
ACADEMIC_SESSIONS = FileSpec(
    "academicSessions.csv",
    required=("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
    optional=(*_COMMON, "parentSourcedId"),
    enums={"type": SESSION_TYPES},
    dates=("startDate", "endDate"),
    lengths={"sourcedId": ID_LENGTH, "title": 255},
)
COURSES = FileSpec(
    "courses.csv",
    required=("sourcedId", "title", "orgSourcedId"),
    optional=(*_COMMON, "schoolYearSourcedId", "courseCode", "grades", "subjects"),
    lengths={"sourcedId": ID_LENGTH, "title": 255, "courseCode": 100},
)
CLASSES = FileSpec(
    "classes.csv",
    required=(
        "sourcedId",
        "title",
        "courseSourcedId",
        "classType",
        "schoolSourcedId",
        "termSourcedIds",
    ),
    optional=(*_COMMON, "classCode", "location", "periods", "grades", "subjects"),
    enums={"classType": CLASS_TYPES},
    lengths={
        "sourcedId": ID_LENGTH,
        "title": 255,
        "classCode": 100,
        "location": 100,
        "periods": 100,
    },
    lists=("termSourcedIds", "periods"),
)
USERS = FileSpec(
    "users.csv",
    required=("sourcedId", "enabledUser", "username", "givenName", "familyName"),
    optional=(
        *_COMMON,
        "middleName",
        "preferredGivenName",
        "identifier",
        "email",
        "userIds",
        "grades",
    ),
    booleans=("enabledUser",),
    lengths={
        "sourcedId": ID_LENGTH,
        "givenName": 150,
        "familyName": 150,
        "middleName": 150,
        "preferredGivenName": 150,
        "identifier": 100,
        "email": 254,
    },
)
ENROLLMENTS = FileSpec(
    "enrollments.csv",
    required=("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
    optional=(*_COMMON, "primary", "beginDate", "endDate"),
    enums={"role": ROLES},
    dates=("beginDate", "endDate"),
    booleans=("primary",),
    lengths={"sourcedId": ID_LENGTH},
)

# In the order they are checked: each file refers only to those before it.
FILES = (ORGS, ACADEMIC_SESSIONS, COURSES, CLASSES, USERS, ENROLLMENTS)
FILE_NAMES = (MANIFEST, *(spec.name for spec in FILES))


def manifest_key(spec: FileSpec) -> str:
    """The manifest's property for a file: file.users for users.csv."""
    return "file." + spec.name.removesuffix(".csv")
