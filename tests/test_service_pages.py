"""Around every page: the service banner (and a demo's flag), the footer's pages (help and
contact, accessibility, privacy, cookies, report a problem), a visible sign-out button, a
favicon and a description of the page."""

import logging
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import mail
from django.templatetags.static import static
from django.urls import reverse
from lxml import html as lxml_html

from tests.factories import UserFactory

FOOTER_PAGES = {
    "help": "Help and contact",
    "report_problem": "Report a problem",
    "accessibility": "Accessibility statement",
    "privacy": "Privacy notice",
    "cookies": "Cookies",
}


def tree_of(response):
    return lxml_html.fromstring(response.content.decode())


@pytest.mark.parametrize("name", FOOTER_PAGES)
def test_each_footer_page_is_real_and_public(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    tree = tree_of(response)
    assert tree.findtext(".//h1").strip() == FOOTER_PAGES[name]
    description = tree.xpath("//meta[@name='description']")[0].get("content")
    home = tree_of(client.get(reverse("home"))).xpath("//meta[@name='description']")[0]
    assert len(description) > 40
    assert description != home.get("content"), "each page describes itself"
    assert len(tree.get_element_by_id("main").text_content().split()) > 40


@pytest.mark.parametrize(
    "page",
    ["search", "detail", "catalog", "sign_up"],
)
def test_each_public_page_describes_itself(client, here, page):
    """What a search engine or a shared link shows: the page's own description."""
    url = {
        "search": reverse("articulations:search"),
        "detail": reverse("articulations:detail", args=[here.articulation.pk]),
        "catalog": reverse("articulations:catalog", args=[here.school.pk]),
        "sign_up": reverse("enrollment:sign_up"),
    }[page]
    description = tree_of(client.get(url)).xpath("//meta[@name='description']")[0].get("content")
    home = tree_of(client.get(reverse("home"))).xpath("//meta[@name='description']")[0]
    assert len(description) > 60
    assert description != home.get("content"), "each page describes itself"
    if page == "detail":
        assert here.articulation.high_school_course.title in description
    if page == "catalog":
        assert here.school.name in description


def test_every_page_links_the_footer_pages(client, here):
    client.force_login(here.students[0].user)
    for url in [reverse("home"), reverse("enrollment:dashboard"), reverse("articulations:search")]:
        footer = tree_of(client.get(url)).xpath("//footer")[0]
        links = {a.text_content().strip(): a.get("href") for a in footer.xpath(".//a")}
        for name, label in FOOTER_PAGES.items():
            assert links[label].split("?")[0] == reverse(name)
        assert links["Report a problem"] == f"{reverse('report_problem')}?from={quote(url)}"


def test_every_page_has_the_service_banner_and_a_description(client, db):
    tree = tree_of(client.get(reverse("accounts:login")))
    banner = tree.xpath("//*[contains(@class, 'sers-phase-banner')]")[0]
    assert "This is a new service" in banner.text_content()
    assert banner.xpath(".//a")[0].get("href") == (
        f"{reverse('report_problem')}?from={quote(reverse('accounts:login'))}"
    )
    assert tree.xpath("//*[contains(@class, 'sers-demo-banner')]") == []  # not a demo
    assert "CTE Dual Credit" in tree.xpath("//meta[@name='description']")[0].get("content")


def test_a_demo_says_its_data_is_made_up(client, db, settings):
    settings.SERS_DEMO = True
    tree = tree_of(client.get(reverse("home")))
    assert (
        "Demo: sample data only."
        in tree.xpath("//*[contains(@class, 'sers-demo-banner')]")[0].text_content()
    )


def test_the_embedded_demo_settings_turn_the_flag_on():
    from sers.settings import dev

    assert dev.SERS_DEMO is True
    assert settings.SERS_DEMO is False  # tests, like production, are not a demo


def test_the_favicon_is_linked_and_served(client, db):
    tree = tree_of(client.get(reverse("home")))
    icons = {link.get("type"): link.get("href") for link in tree.xpath("//link[@rel='icon']")}
    assert set(icons) == {"image/svg+xml", "image/png"}
    for name in ("favicon.svg", "favicon.png", "apple-touch-icon.png"):
        assert finders.find(name), name
        response = client.get(static(name))
        assert response.status_code == 200
    assert tree.xpath("//link[@rel='apple-touch-icon']")


def test_sign_out_is_a_button_in_the_header_outside_any_menu(client, db):
    client.force_login(UserFactory(first_name="Ada"))
    tree = tree_of(client.get(reverse("home")))
    forms = tree.xpath(f"//form[@action='{reverse('accounts:logout')}']")
    assert len(forms) == 1
    form = forms[0]
    assert form.get("method") == "post"
    assert form.xpath(".//button[@type='submit']")[0].text_content().strip() == "Sign out"
    ancestors = list(form.iterancestors())
    assert any(a.tag == "header" for a in ancestors)
    assert not any("dropdown-menu" in (a.get("class") or "") for a in ancestors)
    assert not any("collapse" in (a.get("class") or "").split() for a in ancestors)


def test_anonymous_visitors_get_sign_in_not_sign_out(client, db):
    tree = tree_of(client.get(reverse("home")))
    assert tree.xpath(f"//form[@action='{reverse('accounts:logout')}']") == []
    header = tree.xpath("//header")[0]
    assert header.xpath(f".//a[@href='{reverse('accounts:login')}']")


# --- privacy and cookies ------------------------------------------------------------------------


def test_the_privacy_notice_says_what_is_kept_who_sees_it_and_how_to_ask(client, db):
    text = " ".join(tree_of(client.get(reverse("privacy"))).text_content().split())
    for words in [
        "What SERS keeps",
        "legal name, birth date",
        "never asks for or keeps a Social Security number",
        "Who sees it",
        "Teachers see the students in their own classes",
        "registrar",
        "Who viewed my record",
        "FERPA",
        "We answer within 45 days",
        "A parent or guardian of a student under 18",
        settings.SERS_HELP_EMAIL,
        "How long SERS keeps it",
        f"deleted {settings.SERS_REPORT_FILE_DAYS} days after",
        f"after {settings.SESSION_COOKIE_AGE // 60} minutes without activity",
    ]:
        assert words in text, words


def test_the_cookies_page_names_every_cookie_sers_sets(client, db, password):
    """A visit that sets each cookie SERS has: the form's, a session, a language, a message."""
    user = UserFactory(email="cookies@example.org")
    client.get(reverse("accounts:login"))
    client.post(reverse("accounts:login"), {"username": user.email, "password": password})
    client.post(reverse("set_language"), {"language": "es", "next": "/"})
    client.post(reverse("report_problem"), {"doing": "Looking", "wrong": "A typo", "page": "/"})
    set_by_sers = set(client.cookies)
    assert {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.LANGUAGE_COOKIE_NAME,
        "messages",
    } <= set_by_sers
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("cookies"))
    listed = {
        code.text_content() for code in tree_of(page).xpath("//main//table//th[@scope='row']//code")
    }
    assert set_by_sers <= listed
    assert "no analytics, advertising or tracking cookies" in page.content.decode()


# --- report a problem -------------------------------------------------------------------------


def report(client, **fields):
    data = {
        "doing": "Registering for Web Design",
        "wrong": "The Next button did nothing",
        "page": "/student/register/",
        "email": "",
    } | fields
    return client.post(reverse("report_problem"), data)


def test_a_problem_report_goes_to_the_help_desk(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    response = report(client, email="reporter@example.org")
    assert response.status_code == 302
    assert response.url == reverse("report_problem")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [settings.SERS_HELP_EMAIL]
    assert message.reply_to == ["reporter@example.org"]
    assert "Registering for Web Design" in message.body
    assert "The Next button did nothing" in message.body
    assert "/student/register/" in message.body
    assert "Signed in: no" in message.body
    follow = client.get(response.url)
    assert "your report went to the help desk" in follow.content.decode()
    # nothing the person typed reaches the logs
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for typed in ("Registering for Web Design", "Next button", "reporter@example.org"):
        assert typed not in logged
    assert "problem report sent" in logged


def test_a_signed_in_report_names_the_user_by_id_only(client, db):
    user = UserFactory(email="someone@example.org", first_name="Grace")
    client.force_login(user)
    report(client)
    body = mail.outbox[0].body
    assert f"user id {user.pk}" in body
    assert "someone@example.org" not in body
    assert "Grace" not in body
    assert mail.outbox[0].reply_to == []


def test_the_page_comes_from_where_the_link_was_followed(client, db):
    tree = tree_of(client.get(reverse("report_problem"), {"from": "/classes/"}))
    assert tree.get_element_by_id("id_page").get("value") == "/classes/"


def test_a_link_with_a_secret_in_it_is_reported_by_its_pattern_only(client, db):
    """An activation or email link's token never travels to the help desk."""
    url = reverse("organisations:teacher_activate", args=["MTIz", "secret-token-value"])
    footer = tree_of(client.get(url)).xpath("//footer")[0]
    link = footer.xpath(".//a[starts-with(@href, '/help/report-a-problem/')]")[0].get("href")
    assert "secret-token-value" not in link
    assert "MTIz" not in link
    assert quote("/accounts/activate/<uidb64>/<token>/") in link


def test_a_report_needs_what_happened_and_sends_nothing_without_it(client, db):
    response = report(client, doing="", wrong="")
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert mail.outbox == []


def test_a_mail_failure_says_so_and_keeps_what_was_typed(client, db, monkeypatch):
    def refuse(self, fail_silently=False):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    response = report(client)
    assert response.status_code == 200
    page = response.content.decode()
    assert "could not be sent just now" in page
    assert "The Next button did nothing" in page


def test_one_address_sends_a_few_reports_an_hour(client, db):
    for _ in range(5):
        assert report(client).status_code == 302
    response = report(client)
    assert response.status_code == 200
    assert "several reports in the last hour" in response.content.decode()
    assert len(mail.outbox) == 5


def test_report_a_problem_answers_get_and_post_only(client, db):
    assert client.put(reverse("report_problem")).status_code == 405
    for name in ("help", "accessibility", "privacy", "cookies"):
        assert client.post(reverse(name)).status_code == 405
