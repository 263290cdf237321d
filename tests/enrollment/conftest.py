"""Fixtures for the enrollment service tests, all built with tests/world.py: `here` and
`there` (the staff workflows' places), `year` and `today` come from tests/conftest.py;
the student journey's `world`, `student` and `other_student` from tests/student/conftest.py; and
`twin_records` (one student signed up twice) from tests/staff/conftest.py."""

# Importing the fixtures makes them available here, as tests/trust/conftest.py does.
from tests.staff.conftest import twin_records  # noqa: F401
from tests.student.conftest import other_student, student, world  # noqa: F401
