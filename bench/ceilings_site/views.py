"""The two bench-only views. They touch no SERS table."""

from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed
from django.middleware.csrf import get_token

WRITE_TABLE = "bench_write_floor"
# bench/ceilings.py creates it before the servers start; no SERS model or migration knows it.
CREATE_WRITE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {WRITE_TABLE} ("
    "id bigserial PRIMARY KEY, user_id bigint NOT NULL, "
    "written_at timestamp with time zone NOT NULL DEFAULT now())"
)


def bare(request):
    """Nothing but Django: no template, no database, no session."""
    return HttpResponse(b"ok", content_type="text/plain")


def write(request):
    """The signed-in write floor.

    GET answers the CSRF token (the client asks once). POST, CSRF-checked by the
    middleware, inserts one row of the bench table for the signed-in user and commits.
    Anonymous requests get 403, not the sign-in redirect, so a lost session is an error.
    """
    if not request.user.is_authenticated:
        return HttpResponseForbidden(b"sign in first")
    if request.method == "GET":
        return HttpResponse(get_token(request).encode(), content_type="text/plain")
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {WRITE_TABLE} (user_id) VALUES (%s)", [request.user.pk])  # noqa: S608
    return HttpResponse(b"ok", content_type="text/plain")
