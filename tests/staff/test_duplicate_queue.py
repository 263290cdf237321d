"""The merge queue shows why each pair was found and the weight of the evidence."""

import pytest
from django.urls import reverse

from enrollment.models import PossibleDuplicate
from tests.factories import StudentProfileFactory

pytestmark = pytest.mark.django_db


def pair_of(place, **fields) -> PossibleDuplicate:
    return PossibleDuplicate.objects.create(
        student=StudentProfileFactory(high_school=place.school),
        existing_student=StudentProfileFactory(high_school=place.school),
        match_kind="variant",
        source=PossibleDuplicate.Source.STATEWIDE,
        reasons=["given_nickname", "family_same", "birth_date_same", "middle_different"],
        score=7.25,
        **fields,
    )


def test_the_queue_and_the_review_say_why_and_how_strongly(client, here):
    pair = pair_of(here)
    client.force_login(here.admin)
    page = client.get(reverse("enrollment:duplicate_list")).content.decode()
    assert "one given name is a nickname of the other" in page
    assert "same family name" in page
    assert "Against:" in page
    assert "different middle names" in page
    # One rounding on both pages: 7.25 is 7.3 in the queue and on the review.
    assert "<td>7.3</td>" in page.replace(" ", "").replace("\n", "") or ">7.3<" in page
    assert "7.2" not in page
    assert "Statewide duplicate check" in page
    review = client.get(reverse("enrollment:duplicate_review", args=[pair.pk]))
    html = review.content.decode()
    assert "Why they were paired" in html
    assert "One given name is a nickname of the other" in html
    assert "Different middle names" in html
    assert "Weight of the evidence: 7.3" in html


def test_a_pair_found_before_reasons_were_kept_shows_its_kind(client, here):
    PossibleDuplicate.objects.create(
        student=StudentProfileFactory(high_school=here.school),
        existing_student=StudentProfileFactory(high_school=here.school),
        match_kind="phone",
        source=PossibleDuplicate.Source.STAFF_CHECK,
    )
    client.force_login(here.admin)
    page = client.get(reverse("enrollment:duplicate_list")).content.decode()
    assert "Same phone number and last name" in page


def test_the_queue_reads_a_fixed_number_of_queries(client, here, django_assert_max_num_queries):
    pair_of(here)
    client.force_login(here.admin)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("enrollment:duplicate_list"))
    for _ in range(5):
        pair_of(here)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("enrollment:duplicate_list"))


def test_anonymous_wrong_role_and_outsider(client, here, there):
    pair = pair_of(there)
    url = reverse("enrollment:duplicate_list")
    assert client.get(url).status_code == 302
    client.force_login(here.teacher)
    assert client.get(url).status_code == 403
    client.force_login(here.admin)
    assert client.get(reverse("enrollment:duplicate_review", args=[pair.pk])).status_code == 404
