"""Bearer tokens and rate limits: who is calling, and whether they may call now.

`Authorization: Bearer <token>`. Before the token is even read, a client address with
too many failed sign-ins this minute gets 429; a missing, unknown, expired or revoked
token gets 401 and counts as a failed sign-in of the address; a valid token gets 429
once it made SERS_API_CALLS_PER_MINUTE calls this minute. The limits are in the
settings (README: Configuration).
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from accesslog.services import client_ip

from . import ratelimit, selectors, services


class AuthenticationFailed(Exception):
    """401, with the reason in `detail`."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RateLimited(Exception):
    """429, with the seconds to wait in Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class TokenAuth(HttpBearer):
    """The API's only sign-in: an API token a registrar created (the OpenAPI document
    declares it as the bearer scheme)."""

    def __call__(self, request):
        address = client_ip(request) or "unknown"
        limited = ratelimit.over("failed", address, limit=settings.SERS_API_FAILED_AUTH_PER_MINUTE)
        if limited:
            raise RateLimited(limited.retry_after)
        scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            self._failed(address)
            raise AuthenticationFailed(
                _("Sign in with an API token: send the header Authorization: Bearer <token>.")
            )
        return self.authenticate(request, secret.strip())

    def authenticate(self, request, token: str):
        now = timezone.now()
        client, problem = selectors.api_client_for(secret=token, now=now)
        if client is None:
            self._failed(client_ip(request) or "unknown")
            raise AuthenticationFailed(problem)
        limited = ratelimit.hit(
            "token", str(client.token.pk), limit=settings.SERS_API_CALLS_PER_MINUTE
        )
        if limited:
            raise RateLimited(limited.retry_after)
        services.api_token_touch(token=client.token, now=now)
        return client

    @staticmethod
    def _failed(address: str) -> None:
        ratelimit.hit("failed", address, limit=settings.SERS_API_FAILED_AUTH_PER_MINUTE)
