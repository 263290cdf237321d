import pytest

from tests.factories import EnrollmentFactory, make_staff

pytestmark = pytest.mark.django_db


def test_factories_build_a_consistent_enrollment():
    enrollment = EnrollmentFactory()
    section = enrollment.section
    assert section.high_school.district.consortium == section.articulation.consortium
    assert enrollment.student.sers_id
    assert make_staff("state_staff").memberships.count() == 1
