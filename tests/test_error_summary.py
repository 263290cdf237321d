"""Every form with errors gets GOV.UK's error summary at the top, "There is a problem", with
a link to each field; each field keeps its own message beside it, named by the field's
aria-describedby. Given once: by the page (base.html) for the forms of its context, and by
crispy's error block for a form the page did not list (an htmx partial)."""

import csv
import io

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.urls import reverse
from lxml import html as lxml_html

from articulations.importers import COLUMN_NAMES
from articulations.models import Articulation
from enrollment.models import Enrollment, EnrollmentStatusChange, Fee, SisImport
from enrollment.services import grading
from tests.enrollment.oneroster_files import export_for_place
from tests.factories import UserFactory
from tests.world import S, advance, settle_fee


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


# --- pages whose errors belong to no form: a table's rows, an uploaded file's lines --------------
# The view gives them to the page's summary (error_summary_extra): each links to the box to
# correct, the page is shown again (400) with everything as it was sent, nothing is written.


def links_of(summary) -> list[tuple[str, str]]:
    return [(a.get("href"), " ".join(a.text_content().split())) for a in summary.xpath(".//a")]


def the_summary(response):
    tree, summaries = summary_of(response.content.decode())
    assert len(summaries) == 1
    assert tree.findtext(".//title").startswith("Error: ")
    return tree, summaries[0]


def test_each_refused_grade_is_in_the_summary_linked_to_its_box(client, here):
    first, second, third = here.enrollments
    client.force_login(here.teacher)
    typed = {first.pk: "B", second.pk: "87", third.pk: "Q"}
    response = client.post(
        reverse("enrollment:teacher_grades", args=[here.section.pk]),
        {f"grade_{pk}": raw for pk, raw in typed.items()},
    )
    assert response.status_code == 400
    tree, summary = the_summary(response)
    refused = sorted(
        (e for e in here.enrollments if e.pk != first.pk),
        key=lambda e: (e.student.legal_last_name, e.student.legal_first_name, e.pk),
    )
    error = grading.grade_check(articulation=here.articulation, raw="Q").error
    assert links_of(summary) == [
        (
            f"#grade-{e.pk}",
            f"{e.student.legal_last_name}, {e.student.legal_first_name}: {error}",
        )
        for e in refused
    ]
    for e in refused:
        assert tree.get_element_by_id(f"grade-{e.pk}").get("aria-invalid") == "true"
    # Every box keeps what was typed, the valid one too; nothing is saved.
    for pk, raw in typed.items():
        assert tree.get_element_by_id(f"grade-{pk}").get("value") == raw
    assert {e.status for e in Enrollment.objects.all()} == {S.REGISTERED}


def test_a_refused_override_shows_the_page_again_with_what_was_typed(client, here):
    enrollment = advance(here.enrollments[0], S.ATTAINED, grade="A")
    changes = EnrollmentStatusChange.objects.count()
    client.force_login(here.admin)
    url = reverse("enrollment:grade_override", args=[enrollment.pk])

    response = client.post(url, {"grade": "", "reason": "Typo in the gradebook"})
    assert response.status_code == 400
    tree, summary = the_summary(response)
    assert links_of(summary) == [("#id_grade", "New grade: This field is required.")]
    assert tree.get_element_by_id("id_grade").get("aria-invalid") == "true"
    assert tree.get_element_by_id("id_grade_error") is not None
    assert tree.get_element_by_id("id_reason").text_content().strip() == "Typo in the gradebook"

    # Refused by the service (not a grade of the scale): said on the grade, reason kept.
    response = client.post(url, {"grade": "Z", "reason": "Second look"})
    assert response.status_code == 400
    tree, summary = the_summary(response)
    [(href, text)] = links_of(summary)
    assert href == "#id_grade"
    assert text.startswith("New grade: ")
    assert tree.get_element_by_id("id_grade").get("value") == "Z"
    assert tree.get_element_by_id("id_reason").text_content().strip() == "Second look"

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.grade) == (S.ATTAINED, "A")
    assert EnrollmentStatusChange.objects.count() == changes


def test_a_refused_mark_transcribed_shows_the_queue_again_as_it_was_sent(
    client, here, django_assert_max_num_queries
):
    ready = sorted(
        here.enrollments[:2],
        key=lambda e: (e.student.legal_last_name, e.student.legal_first_name, e.pk),
    )
    for e in ready:
        advance(e, S.ATTAINED)
        settle_fee(e)
    first, second = ready
    client.force_login(here.registrar)
    url = reverse("enrollment:registrar_transcribe")
    sent = {
        "query": f"view=ready&term={here.section.term}",
        "transcribed_on": "2026-11-30",
        "enrollment": [first.pk, second.pk],
        f"college_id_{first.pk}": "ctc-0001",
        f"college_id_{second.pk}": "",
    }
    # No more queries than the queue's own page (tests/scale/test_query_counts.py).
    with django_assert_max_num_queries(20):
        response = client.post(url, sent)
    assert response.status_code == 400
    tree, summary = the_summary(response)
    name = f"{second.student.legal_last_name}, {second.student.legal_first_name}"
    assert links_of(summary) == [
        (f"#college-id-{second.pk}", f"{name}: Enter their college student ID.")
    ]
    box = tree.get_element_by_id(f"college-id-{second.pk}")
    assert box.get("aria-invalid") == "true"
    assert tree.get_element_by_id(box.get("aria-describedby")) is not None
    # The ticks, the IDs typed, the date and the queue's filters are as they were sent.
    assert tree.get_element_by_id(f"pick-{first.pk}").get("checked") is not None
    assert tree.get_element_by_id(f"pick-{second.pk}").get("checked") is not None
    assert tree.get_element_by_id(f"college-id-{first.pk}").get("value") == "ctc-0001"
    assert tree.get_element_by_id("id_transcribed_on").get("value") == "2026-11-30"
    assert tree.xpath("//input[@name='query']")[0].get("value") == sent["query"]
    # Its links lead to the queue, not to the address the form was sent to.
    tabs = tree.xpath("//*[@id='queue-results']//a[contains(@class, 'nav-link')]")
    assert all(a.get("href").startswith(reverse("enrollment:registrar_queue")) for a in tabs)

    # A posting date in the future: said on the date, the ticks kept.
    response = client.post(
        url, {**sent, f"college_id_{second.pk}": "ctc-0002"} | {"transcribed_on": "2027-01-30"}
    )
    assert response.status_code == 400
    tree, summary = the_summary(response)
    assert links_of(summary) == [
        ("#id_transcribed_on", "Posting date: The posting date cannot be in the future.")
    ]
    assert tree.get_element_by_id("id_transcribed_on").get("value") == "2027-01-30"
    assert tree.get_element_by_id(f"college-id-{second.pk}").get("value") == "ctc-0002"
    assert tree.get_element_by_id(f"pick-{second.pk}").get("checked") is not None

    # A posting date before the credits were attained: said on the date too.
    response = client.post(
        url, {**sent, f"college_id_{second.pk}": "ctc-0002"} | {"transcribed_on": "2020-01-30"}
    )
    assert response.status_code == 400
    [(href, text)] = links_of(the_summary(response)[1])
    assert href == "#id_transcribed_on"
    assert text.startswith("Posting date: The posting date cannot be before the credits were")

    # Nothing ticked: the summary leads to the first box to tick.
    response = client.post(url, {"query": "", "transcribed_on": "2026-11-30"})
    assert response.status_code == 400
    [(href, text)] = links_of(the_summary(response)[1])
    assert (href, text) == (
        f"#pick-{first.pk}",
        "Tick at least one enrollment to mark transcribed.",
    )

    assert not Enrollment.objects.filter(status=S.TRANSCRIBED).exists()


def _upload(name: str, text: str):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def _file_summary(response, field_id: str, label: str, what: str, count: int):
    """One item, "<the file's label>: <count> lines need fixing…", linked to the file's
    box to choose the corrected file; the page's other boxes keep what was sent."""
    assert response.status_code == 400
    tree, summary = the_summary(response)
    [(href, text)] = links_of(summary)
    assert href == f"#{field_id}"
    assert text.startswith(f"{label}: {count} {what}")
    assert tree.get_element_by_id(field_id).tag == "input"
    return tree


UNKNOWN = ("900000001", "900000002")  # SERS ids of nobody


def test_a_class_list_upload_with_bad_lines_links_to_the_file_box(client, here):
    client.force_login(here.teacher)
    response = client.post(
        reverse("enrollment:teacher_upload", args=[here.section.pk]),
        {"file": _upload("list.csv", "sers_id,grade\n{},B\n{},A\n".format(*UNKNOWN))},
    )
    _file_summary(response, "id_file", "CSV or Excel file", "lines need fixing.", 2)
    assert {Enrollment.objects.get(pk=e.pk).status for e in here.enrollments} == {S.REGISTERED}


def test_a_fee_upload_with_bad_lines_links_to_the_file_box(client, here, year):
    client.force_login(here.admin)
    response = client.post(
        reverse("enrollment:fee_upload"),
        {
            "academic_year": year.pk,
            "status": "paid",
            "paid_on": "2026-11-20",
            "receipt_number": "BATCH-1",
            "file": _upload("fees.csv", f"sers_id\n{UNKNOWN[0]}\n"),
        },
    )
    tree = _file_summary(response, "id_file", "CSV or Excel file", "line needs fixing.", 1)
    assert tree.get_element_by_id("id_receipt_number").get("value") == "BATCH-1"
    assert not Fee.objects.exclude(status="unpaid").exists()


def test_a_posted_credits_upload_with_bad_lines_links_to_the_file_box(client, here):
    client.force_login(here.registrar)
    text = "sers_id,course,college_student_id\n{},CS 110,C-1\n{},CS 110,C-2\n".format(*UNKNOWN)
    response = client.post(
        reverse("enrollment:registrar_upload"),
        {"file": _upload("posted.csv", text), "posted_on": "2026-11-25"},
    )
    _file_summary(response, "id_file", "CSV or Excel file", "lines need fixing.", 2)
    assert not Enrollment.objects.filter(status=S.TRANSCRIBED).exists()


def test_a_school_export_with_problems_links_to_the_file_box(client, here):
    client.force_login(here.specialist)
    export, _class_id = export_for_place(here)
    export.rows["users.csv"][2]["givenName"] = ""
    response = client.post(
        reverse("enrollment:sis_imports"),
        {"high_school": here.school.pk, "files": export.uploads(zipped=False)},
    )
    tree = _file_summary(
        response, "id_files", "The export: its zip file, or its CSV files", "problem to fix.", 1
    )
    assert tree.xpath("//select[@id='id_high_school']/option[@selected]")[0].get("value") == str(
        here.school.pk
    )
    assert not SisImport.objects.exists()


def test_an_agreement_import_with_problems_links_to_the_file_box(client, here):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMN_NAMES)
    writer.writeheader()
    writer.writerow(dict.fromkeys(COLUMN_NAMES, "") | {"agreement_number": "IMP-9"})
    client.force_login(here.admin)
    response = client.post(
        reverse("articulations:import"),
        {"consortium": here.consortium.pk, "file": _upload("a.csv", buffer.getvalue())},
    )
    assert response.status_code == 200  # as before: the page lists the problems
    count = len(response.context["problems"])
    assert count
    tree, summary = the_summary(response)
    [(href, text)] = links_of(summary)
    assert href == "#id_file"
    assert tree.get_element_by_id("id_file").tag == "input"
    assert text.startswith(f"File (.csv or .xlsx): {count} problem")
    assert not Articulation.objects.filter(agreement_number="IMP-9").exists()
