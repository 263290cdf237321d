"""Class lists from the schools' student information systems: OneRoster CSV exports.

A high school's export (a zip, or its files: manifest.csv, orgs.csv,
academicSessions.csv, courses.csv, classes.csv, users.csv, enrollments.csv) is read
(read.py: the project's upload checks), checked completely (tables.py: every line of
each file; validate.py: every reference, and that it is the uploader's school), and
becomes a Roster: the school's classes, the students in them, who is in which. The
service enrollment.services.oneroster writes it in one transaction; matching.py suggests
which SERS class each SIS class is and tells which registered student an SIS student is.

    problems = Problems()
    texts = read_upload(request.FILES.getlist("files"), problems)
    roster = validate(texts, school=School(...), today=today, problems=problems)
    # roster is None when problems holds anything: each names its file, line and column.
"""

from .problems import Problem, Problems
from .read import read_upload
from .validate import Roster, School, validate

__all__ = ["Problem", "Problems", "Roster", "School", "read_upload", "validate"]
