"""Where the consortium has an online payment page, "How to pay" on the student's fees links
to it: set with the rest of the fee settings on the policy page, https only."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from lxml import html as lxml_html

pytestmark = pytest.mark.django_db

PAYMENT_URL = "https://pay.cascade.example.edu/cte-dual-credit"


def policy_url(place):
    return reverse("organisations:consortium_policy_edit", args=[place.consortium.pk, "2026-27"])


def policy_data(place, **changes):
    policy = place.policy
    return {
        "registration_opens": policy.registration_opens.isoformat(),
        "registration_closes": policy.registration_closes.isoformat(),
        "payment_deadline": policy.payment_deadline.isoformat(),
        "grading_deadline": policy.grading_deadline.isoformat(),
        "annual_fee": "50.00",
        "payment_url": "",
        "waiver_reasons": "Financial hardship",
        "grade_scale": "letter",
        "default_minimum_grade": "B",
        "school_email_domains": "",
    } | changes


def test_the_payment_page_is_set_with_the_fee_settings(client, here):
    client.force_login(here.admin)
    form = client.get(policy_url(here)).context["form"]
    assert "payment_url" in form.fields
    response = client.post(policy_url(here), policy_data(here, payment_url=PAYMENT_URL))
    assert response.status_code == 302
    here.policy.refresh_from_db()
    assert here.policy.payment_url == PAYMENT_URL
    assert f"payment_url:  → {PAYMENT_URL}" in LogEntry.objects.get().change_message


@pytest.mark.parametrize(
    "address", ["http://pay.example.edu/", "javascript:alert(1)", "ftp://pay.example.edu/"]
)
def test_only_an_https_page_is_taken(client, here, address):
    client.force_login(here.admin)
    response = client.post(policy_url(here), policy_data(here, payment_url=address))
    assert response.status_code == 400
    assert response.context["form"].errors["payment_url"]
    here.policy.refresh_from_db()
    assert here.policy.payment_url == ""


def fee_card(client, place):
    student = place.students[0]
    client.force_login(student.user)
    page = client.get(reverse("enrollment:dashboard")).content.decode()
    tree = lxml_html.fromstring(page)
    return tree.get_element_by_id("fees")


def test_how_to_pay_links_to_the_consortiums_payment_page(client, here):
    here.policy.payment_url = PAYMENT_URL
    here.policy.save()
    fees = fee_card(client, here)
    links = fees.xpath(".//a[@data-payment-link]")
    assert len(links) == 1
    link = links[0]
    assert link.get("href") == PAYMENT_URL
    assert link.get("target") == "_blank"
    assert {"noopener", "noreferrer"} <= set(link.get("rel").split())
    text = " ".join(fees.text_content().split())
    assert f"Pay online on the {here.consortium.name} payment page (opens in a new tab)" in text
    assert f"That page belongs to {here.consortium.name}, not to SERS." in text


def test_no_payment_page_no_link(client, here):
    fees = fee_card(client, here)
    assert fees.xpath(".//a[@data-payment-link]") == []
    assert "How to pay" in fees.text_content()


def test_a_paid_fee_needs_no_payment_link(client, here):
    here.policy.payment_url = PAYMENT_URL
    here.policy.save()
    fee = here.students[0].fees.get()
    fee.status, fee.waiver_reason = "waived", "Financial hardship"
    fee.save()
    assert fee_card(client, here).xpath(".//a[@data-payment-link]") == []
