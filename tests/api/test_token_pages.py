"""The registrars' API token pages: the list, creating a token (shown once, stored as a
hash) and revoking one; the normal case, the anonymous visitor, the wrong role (403)
and another college's token (404)."""

import datetime
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

LIST = reverse("api:tokens")
NEW = reverse("api:token_new")


def revoke_url(token) -> str:
    return reverse("api:token_revoke", args=[token.pk])


def assert_sign_in(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_list_shows_the_colleges_tokens_and_their_state(client, here, there, token):
    revoked, _secret = api_token_create(
        actor=here.registrar, college=here.college, label="Old import", days=30
    )
    api_token_revoke(actor=here.registrar, token_id=revoked.pk)
    theirs, _secret = api_token_create(
        actor=there.registrar, college=there.college, label="Their system", days=30
    )
    client.force_login(here.registrar)

    response = client.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Banner nightly" in page
    assert token[0].prefix in page
    assert "Old import" in page
    assert "Revoked" in page
    assert "Active" in page
    assert "Never" in page  # not used yet
    assert "Their system" not in page
    assert theirs.prefix not in page
    assert token[1] not in page  # the secret is never shown again
    assert reverse("api:tokens") in page  # the menu entry


def test_the_list_query_count_does_not_grow(client, here, django_assert_max_num_queries):
    client.force_login(here.registrar)
    api_token_create(actor=here.registrar, college=here.college, label="One", days=30)
    with django_assert_max_num_queries(12) as few:
        assert client.get(LIST).status_code == 200
    for n in range(5):
        api_token_create(actor=here.registrar, college=here.college, label=f"T{n}", days=30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(LIST).status_code == 200


def test_the_pages_ask_anonymous_visitors_to_sign_in(client, here, token):
    assert_sign_in(client.get(LIST))
    assert_sign_in(client.get(NEW))
    assert_sign_in(client.post(NEW, {"label": "x", "days": 90}))
    assert_sign_in(client.post(revoke_url(token[0])))
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


@pytest.mark.parametrize("role", ["teacher", "specialist", "admin"])
def test_other_roles_get_403(client, here, token, role):
    client.force_login(getattr(here, role))
    assert client.get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"label": "x", "days": 90}).status_code == 403
    assert client.post(revoke_url(token[0])).status_code == 403
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


def test_another_colleges_token_is_a_404(client, here, there, token):
    client.force_login(there.registrar)
    assert client.get(revoke_url(token[0])).status_code == 404
    assert client.post(revoke_url(token[0])).status_code == 404
    assert client.get(reverse("api:token_revoke", args=[token[0].pk + 1000])).status_code == 404
    token[0].refresh_from_db()
    assert token[0].revoked_at is None


def test_a_new_token_is_shown_once_and_stored_as_a_hash(client, here):
    client.force_login(here.registrar)
    assert client.get(NEW).status_code == 200

    response = client.post(
        NEW, {"label": " Colleague import ", "college": here.college.pk, "days": 180}
    )

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("sers_")
    assert len(secret) >= 45
    page = response.content.decode()
    assert secret in page
    assert "only time SERS shows it" in page
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert token.label == "Colleague import"
    assert token.college == here.college
    assert token.created_by == here.registrar
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert len(token.prefix) == 12
    # No column holds the secret.
    assert not any(
        secret in str(getattr(token, field.attname)) for field in ApiToken._meta.concrete_fields
    )
    assert token.expires_at - token.created_at == datetime.timedelta(days=180)
    # The list does not show it again.
    assert secret not in client.get(LIST).content.decode()


def test_a_token_needs_a_name_and_an_allowed_lifetime(client, here):
    client.force_login(here.registrar)
    response = client.post(NEW, {"label": "  ", "college": here.college.pk, "days": 90})
    assert response.status_code == 400
    response = client.post(NEW, {"label": "x", "college": here.college.pk, "days": 5000})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_a_registrar_cannot_create_a_token_for_another_college(client, here, there):
    client.force_login(here.registrar)
    response = client.post(NEW, {"label": "x", "college": there.college.pk, "days": 90})
    assert response.status_code == 400  # not among the form's choices
    assert not ApiToken.objects.exists()


def test_revoking_asks_then_revokes(client, here, token):
    client.force_login(here.registrar)
    page = client.get(revoke_url(token[0]))
    assert page.status_code == 200
    assert "Revoke the token" in page.content.decode()

    response = client.post(revoke_url(token[0]))

    assert response.status_code == 302
    assert response.url == LIST
    token[0].refresh_from_db()
    assert token[0].revoked_at is not None
    assert token[0].revoked_by == here.registrar
    # Again: nothing changes, and the page says it no longer works.
    revoked_at = token[0].revoked_at
    assert client.post(revoke_url(token[0])).status_code == 302
    token[0].refresh_from_db()
    assert token[0].revoked_at == revoked_at
    assert "no longer works" in client.get(revoke_url(token[0])).content.decode()


def test_any_registrar_of_the_college_manages_its_tokens(client, here, token):
    colleague = make_staff(Role.REGISTRAR, here.college)
    client.force_login(colleague)
    assert "Banner nightly" in client.get(LIST).content.decode()
    assert client.post(revoke_url(token[0])).status_code == 302
    token[0].refresh_from_db()
    assert token[0].revoked_by == colleague


def test_expired_tokens_show_as_expired(client, here, token):
    ApiToken.objects.filter(pk=token[0].pk).update(
        created_at=timezone.now() - datetime.timedelta(days=100),
        expires_at=timezone.now() - datetime.timedelta(days=10),
    )
    client.force_login(here.registrar)
    page = client.get(LIST).content.decode()
    assert "Expired" in page
    assert revoke_url(token[0]) not in page
