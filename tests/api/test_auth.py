"""Signing in to the API with a token, and the rate limits: a missing, unknown, expired
or revoked token is a 401 with a JSON reason; too many calls a 429 with Retry-After."""

import datetime

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.models import RoleMembership
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db

READY = "/api/v1/credits/ready"


def assert_401(response, words: str):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert words in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_valid_token_is_accepted(client, token, auth):
    response = client.get(READY, headers=auth)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_no_token_is_a_401(client, token):
    assert_401(client.get(READY), "Authorization: Bearer")
    assert_401(client.get(READY, headers={"Authorization": "Basic dXNlcjpwYXNz"}), "Bearer")
    assert_401(client.get(READY, headers={"Authorization": "Bearer "}), "Bearer")


def test_an_unknown_token_is_a_401(client, token):
    assert_401(client.get(READY, headers=bearer(token[1] + "x")), "not valid")
    assert_401(client.get(READY, headers=bearer("sers_" + "a" * 5000)), "not valid")


def test_a_session_does_not_sign_in_to_the_api(client, here, token):
    client.force_login(here.registrar)
    assert_401(client.get(READY), "Bearer")


def test_an_expired_token_is_a_401(client, token, auth):
    ApiToken.objects.filter(pk=token[0].pk).update(
        created_at=F("created_at") - datetime.timedelta(days=91),
        expires_at=F("expires_at") - datetime.timedelta(days=91),
    )
    assert_401(client.get(READY, headers=auth), "expired")


def test_a_revoked_token_is_a_401_at_once(client, here, token, auth):
    assert client.get(READY, headers=auth).status_code == 200
    api_token_revoke(actor=here.registrar, token_id=token[0].pk)
    assert_401(client.get(READY, headers=auth), "revoked")


def test_a_token_stops_when_its_creator_is_no_longer_a_registrar_there(client, here, auth):
    RoleMembership.objects.filter(user=here.registrar).delete()
    assert_401(client.get(READY, headers=auth), "no longer works with the college")


def test_a_token_stops_when_its_creator_is_deactivated(client, here, auth):
    here.registrar.is_active = False
    here.registrar.save(update_fields=["is_active"])
    assert_401(client.get(READY, headers=auth), "no longer works with the college")


def test_last_used_is_written_at_most_once_a_minute(client, token, auth, django_assert_num_queries):
    assert token[0].last_used_at is None
    client.get(READY, headers=auth)
    token[0].refresh_from_db()
    first = token[0].last_used_at
    assert first is not None
    client.get(READY, headers=auth)
    token[0].refresh_from_db()
    assert token[0].last_used_at == first  # a second call within the minute writes nothing
    ApiToken.objects.filter(pk=token[0].pk).update(
        last_used_at=timezone.now() - datetime.timedelta(minutes=2)
    )
    client.get(READY, headers=auth)
    token[0].refresh_from_db()
    assert token[0].last_used_at > first


def test_calls_over_the_limit_get_429_with_retry_after(client, settings, token, auth):
    settings.SERS_API_CALLS_PER_MINUTE = 3
    for _ in range(3):
        assert client.get(READY, headers=auth).status_code == 200
    response = client.get(READY, headers=auth)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many calls" in response.json()["detail"]


def test_the_limit_is_per_token(client, settings, here, token, auth):
    settings.SERS_API_CALLS_PER_MINUTE = 2
    other = api_token_create(actor=here.registrar, college=here.college, label="Other", days=30)
    for _ in range(2):
        client.get(READY, headers=auth)
    assert client.get(READY, headers=auth).status_code == 429
    assert client.get(READY, headers=bearer(other[1])).status_code == 200


def test_failed_sign_ins_from_one_address_get_429(client, settings, token, auth):
    settings.SERS_API_FAILED_AUTH_PER_MINUTE = 3
    for _ in range(3):
        assert client.get(READY, headers=bearer("sers_wrong")).status_code == 401
    response = client.get(READY, headers=bearer("sers_wrong"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    # The address waits, even with a good token; another address does not.
    assert client.get(READY, headers=auth).status_code == 429
    assert client.get(READY, headers=auth, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_the_openapi_document_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/credits/ready",
        "/api/v1/credits/acknowledgements",
        "/api/v1/credits/{credit_id}",
        "/api/v1/agreements",
    }
    assert document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_the_docs_page_loads(client):
    assert client.get("/api/v1/docs").status_code == 200


def test_every_answer_is_json_even_for_a_wrong_method_or_path(client, auth):
    response = client.delete(READY, headers=auth)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {"detail": "This path takes only: GET."}
    response = client.get("/api/v1/credits/acknowledgements", headers=auth)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    for path in ("/api/v1/", "/api/v1/students", "/api/v1/credits/ready/"):
        response = client.get(path, headers=auth)
        assert response.status_code == 404, path
        assert "openapi.json" in response.json()["detail"]
    response = client.post("/api/v1/students", {"a": 1}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
