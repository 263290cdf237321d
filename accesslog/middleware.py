"""Request context for the student-record access log."""

from contextvars import ContextVar

from accounts import security

# The client address of the request being served: a change logged deep inside a
# service (which never sees the request) still records where it came from.
_client_ip: ContextVar[str | None] = ContextVar("sers_client_ip", default=None)


def current_client_ip() -> str | None:
    return _client_ip.get()


class AccessLogContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _client_ip.set(security.client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)
