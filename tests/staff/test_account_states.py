"""One vocabulary for a teacher's account: the consortium admin's pages, the agreement
form and the student trying to register all name the same state (accounts.models.
AccountState), and the student is told the truth and whom to contact."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import AccountState
from enrollment.services import registration
from organisations.services import teacher_deactivate
from tests.factories import StudentProfileFactory
from tests.world import add_teacher

pytestmark = pytest.mark.django_db


def test_each_account_has_one_state(here):
    invited = add_teacher(here.school, invited=True)
    assert here.teacher.account_state == AccountState.ACTIVE
    assert invited.account_state == AccountState.INVITED
    teacher_deactivate(actor=here.admin, user_id=here.teacher.pk, reason="Left the district")
    here.teacher.refresh_from_db()
    assert here.teacher.account_state == AccountState.DEACTIVATED
    # An invitation not accepted is not "deactivated", and a closed account not "invited".
    assert get_user_model().objects.get(pk=invited.pk).account_state == AccountState.INVITED


def _refusal(place, student) -> str:
    with pytest.raises(registration.RegistrationRefused) as refused:
        registration.enrollment_register(student=student, section=place.section, actor=student.user)
    assert refused.value.code == "teacher_inactive"
    return refused.value.messages[0]


@pytest.mark.parametrize("state", [AccountState.DEACTIVATED, AccountState.INVITED])
def test_a_teachers_state_reads_the_same_everywhere(client, here, state):
    here.consortium.contact_name = "Dual Credit Office"
    here.consortium.contact_email = "dualcredit@cascade.example.org"
    here.consortium.save()
    teacher = here.teacher
    if state == AccountState.DEACTIVATED:
        teacher_deactivate(actor=here.admin, user_id=teacher.pk, reason="Left the district")
    else:
        teacher.is_active = False
        teacher.set_unusable_password()
        teacher.save(update_fields=["is_active", "password"])
    label = str(state.label)
    others = {str(s.label) for s in AccountState} - {label}

    client.force_login(here.admin)
    pages = {
        "teachers": client.get(reverse("organisations:consortium_teachers")),
        "teacher": client.get(reverse("organisations:consortium_teacher", args=[teacher.pk])),
        "new agreement": client.get(reverse("articulations:manage_create")),
    }
    for name, response in pages.items():
        html = response.content.decode()
        assert label in html, name
        for other in others - {str(AccountState.ACTIVE.label)}:
            assert other not in html, (name, other)
    assert ", invited" not in pages["new agreement"].content.decode()

    message = _refusal(here, StudentProfileFactory(high_school=here.school))
    assert "sign in to SERS" not in message
    assert ("deactivated" in message) == (state == AccountState.DEACTIVATED)
    assert ("has not activated" in message) == (state == AccountState.INVITED)
    assert "Dual Credit Office" in message
    assert "dualcredit@cascade.example.org" in message


def test_without_a_consortium_contact_the_student_is_sent_to_their_school(here):
    here.consortium.contact_name = here.consortium.contact_email = ""
    here.consortium.contact_phone = ""
    here.consortium.save()
    teacher_deactivate(actor=here.admin, user_id=here.teacher.pk, reason="Left")
    message = _refusal(here, StudentProfileFactory(high_school=here.school))
    assert here.consortium.name in message
    assert "career specialist or counselor" in message


def test_the_class_list_tells_the_student_the_same(client, here):
    here.consortium.contact_email = "dualcredit@cascade.example.org"
    here.consortium.save()
    student = StudentProfileFactory(high_school=here.school)  # not in the class yet
    client.force_login(student.user)
    before = client.get(reverse("enrollment:register"), {"school": here.school.pk})
    assert "deactivated" not in before.content.decode()
    teacher_deactivate(actor=here.admin, user_id=here.teacher.pk, reason="Left the district")
    # The cached class list is renewed: the student reads the new state at once.
    after = client.get(reverse("enrollment:register"), {"school": here.school.pk})
    html = after.content.decode()
    assert "its teacher&#x27;s SERS account is deactivated" in html
    assert "dualcredit@cascade.example.org" in html
