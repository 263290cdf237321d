"""Handing a stored report file to the user who may have it.

The file is in the default storage: a local folder, or a private bucket of S3-compatible
object storage (README: Running on several machines). The view checks the permission
first; then, by SERS_FILE_DOWNLOADS, the app streams the file (any storage), or answers
with a redirect to a signed link to the object that expires after SERS_S3_URL_SECONDS
(object storage only: the web process does not carry the bytes). Either way the answer is
never cached, and nothing in the bucket is public.
"""

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

NOT_CACHED = "private, no-store"


class SignedLinkRedirect(HttpResponseRedirect):
    """A redirect to the object storage's host (signed links are absolute URLs there)."""

    allowed_schemes = ["https", "http"]


def stored_file_response(name: str, *, file_name: str, content_type: str) -> HttpResponse:
    """The stored file `name` as an attachment called `file_name`; FileNotFoundError if it
    is missing (nothing is answered yet then)."""
    if settings.SERS_FILE_DOWNLOADS == "redirect":
        if not default_storage.exists(name):
            raise FileNotFoundError(name)
        url = default_storage.url(
            name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(True, file_name),
                "ResponseContentType": content_type,
                "ResponseCacheControl": NOT_CACHED,
            },
        )
        response = SignedLinkRedirect(url)
    else:
        response = FileResponse(
            default_storage.open(name, "rb"),
            as_attachment=True,
            filename=file_name,
            content_type=content_type,
        )
    response["Cache-Control"] = NOT_CACHED
    return response
