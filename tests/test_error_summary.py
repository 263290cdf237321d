"""Every form with errors gets GOV.UK's error summary at the top, "There is a problem", with
a link to each field; each field keeps its own message beside it, named by the field's
aria-describedby. Given once: by the page (base.html) for the forms of its context, and by
crispy's error block for a form the page did not list (an htmx partial)."""

from django import forms
from django.template import Context, Template
from django.urls import reverse
from lxml import html as lxml_html

from tests.factories import UserFactory


class ContactForm(forms.Form):
    name = forms.CharField(label="Your name", help_text="As on your school record.")
    kind = forms.ChoiceField(
        label="Kind", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect
    )
    agree = forms.BooleanField(label="I agree")
    token = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        raise forms.ValidationError("The whole form is wrong.")


def crispy(form) -> str:
    return Template("{% load crispy_forms_tags %}{{ form|crispy }}").render(Context({"form": form}))


def summary_of(page: str):
    tree = lxml_html.fromstring(f"<div>{page}</div>")
    summaries = tree.xpath("//*[@data-error-summary]")
    return tree, summaries


def test_a_crispy_form_with_errors_starts_with_the_summary():
    form = ContactForm(data={})
    summaries = summary_of(crispy(form))[1]
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary.xpath(".//h2")[0].text_content().strip() == "There is a problem"
    assert summary.xpath(".//*[@role='alert']")
    links = [(a.get("href"), a.text_content().strip()) for a in summary.xpath(".//a")]
    assert links == [
        # the form's own error, and the hidden field's, link to the first field
        ("#id_name", "The whole form is wrong."),
        ("#id_name", "Your name: This field is required."),
        ("#id_kind_0", "Kind: This field is required."),
        ("#id_agree", "I agree: This field is required."),
        ("#id_name", "This field is required."),
    ]


def test_each_field_keeps_its_message_named_by_aria_describedby():
    tree = lxml_html.fromstring(crispy(ContactForm(data={})))
    name = tree.get_element_by_id("id_name")
    assert name.get("aria-invalid") == "true"
    described = name.get("aria-describedby").split()
    assert described == ["id_name_helptext", "id_name_error"]
    message = tree.get_element_by_id("id_name_error")
    assert message.text_content().split() == ["Error:", "This", "field", "is", "required."]
    assert "visually-hidden" in message.xpath(".//span")[0].get("class")
    # radios: the fieldset names the message
    fieldset = tree.get_element_by_id("id_kind_0").getparent()
    while fieldset.tag != "fieldset":
        fieldset = fieldset.getparent()
    assert fieldset.get("aria-describedby") == "id_kind_error"
    assert tree.get_element_by_id("id_kind_error") is not None


def test_a_form_without_errors_has_no_summary():
    assert summary_of(crispy(ContactForm()))[1] == []
    valid = forms.Form(data={})
    assert valid.is_valid()
    assert summary_of(crispy(valid))[1] == []


def test_the_summary_is_given_once_at_the_top_of_the_page_with_error_in_the_title(client, db):
    response = client.post(reverse("report_problem"), {"doing": "", "wrong": ""})
    assert response.status_code == 200
    tree, summaries = summary_of(response.content.decode())
    assert len(summaries) == 1
    main = tree.get_element_by_id("main")
    # first in the main content, before the heading
    assert next(iter(main)).get("data-error-summary") is not None
    assert tree.findtext(".//title").startswith("Error: ")
    links = [(a.get("href"), a.text_content()) for a in summaries[0].xpath(".//a")]
    assert links == [
        ("#id_doing", "What were you doing? Say what you were doing."),
        ("#id_wrong", "What went wrong? Say what went wrong."),
    ]
    hrefs = [href for href, _text in links]
    for href in hrefs:
        assert tree.get_element_by_id(href[1:]).get("aria-invalid") == "true"


def test_a_page_that_draws_its_fields_one_by_one_gets_the_summary_too(client, here):
    """The student lookup places each field itself (as_crispy_field): the page's summary
    lists its errors, the form's own one included, and the page shows that one only once."""
    client.force_login(here.specialist)
    response = client.get(reverse("enrollment:staff_lookup"), {"sers_id": "12"})
    summaries = summary_of(response.content.decode())[1]
    assert len(summaries) == 1
    links = [(a.get("href"), a.text_content().strip()) for a in summaries[0].xpath(".//a")]
    assert links == [("#id_sers_id", "SERS ID: A SERS ID has nine digits.")]

    response = client.get(reverse("enrollment:staff_lookup"), {"name": "", "sers_id": ""})
    page = response.content.decode()
    summaries = summary_of(page)[1]
    assert "Fill in at least one box to look a student up." in summaries[0].text_content()


def test_the_sign_in_form_says_what_is_wrong_in_the_summary(client, db, password):
    UserFactory(email="summary@example.org")
    response = client.post(
        reverse("accounts:login"), {"username": "summary@example.org", "password": "wrong"}
    )
    tree, summaries = summary_of(response.content.decode())
    assert len(summaries) == 1
    assert summaries[0].xpath(".//a")[0].get("href") == "#id_username"
    assert tree.findtext(".//title").startswith("Error: ")


def test_a_crispy_form_on_a_page_is_summarised_once(client, here):
    """The page's summary lists the form; crispy's error block then adds no second one."""
    client.force_login(here.admin)
    fee = here.students[0].fees.get()
    response = client.post(
        reverse("enrollment:fee_detail", args=[fee.pk]), {"status": "paid", "paid_on": ""}
    )
    summaries = summary_of(response.content.decode())[1]
    assert len(summaries) == 1
    hrefs = [a.get("href") for a in summaries[0].xpath(".//a")]
    assert "#id_paid_on" in hrefs
