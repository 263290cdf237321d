"""Fixtures for the staff workflows. The places come from tests/world.py through
tests/conftest.py: `here` (one consortium with a college, a district, a high school, a
class of students and a member of staff for every role) and `there` (an outside
consortium with the same, to show that nobody reaches another's records), with `year`
and `today`."""

import pytest

from tests.factories import EnrollmentFactory, SectionFactory, StudentProfileFactory


@pytest.fixture
def twin_records(here, year):
    """The same student signed up twice: once at registration, once with a typo."""
    kept = here.students[0]
    copy = StudentProfileFactory(
        high_school=here.school,
        legal_first_name=kept.legal_first_name,
        legal_last_name=kept.legal_last_name,
        birth_date=kept.birth_date,
    )
    other_class = SectionFactory(
        articulation=here.articulation, high_school=here.school, academic_year=year
    )
    moved = EnrollmentFactory(student=copy, section=other_class)
    return kept, copy, moved
