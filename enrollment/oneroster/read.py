"""The files of an upload: a zip archive of the export, or its CSV files chosen together.

Every file goes through the project's upload checks (sers.uploads): sizes (a zip's
members are measured before anything is unpacked), encodings (UTF-8 with or without a
byte-order mark, or Windows-1252) and content that is not text. What cannot be read is
a problem of that file; the others are still read, so one upload reports all it can.
"""

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from sers.uploads import UploadRefused, check_upload, check_zip

from .problems import Problems
from .spec import FILE_NAMES

# A large high school's export is a few megabytes; the whole upload, unpacked, at most this.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
_CANONICAL = {name.lower(): name for name in FILE_NAMES}


def _max_bytes() -> int:
    return getattr(settings, "SERS_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)


def _refusal(error: UploadRefused) -> str:
    return " ".join(error.messages)


def read_upload(files, problems: Problems) -> dict[str, str]:
    """The text of each OneRoster file of the upload (a list of uploaded files: one .zip,
    or the .csv files), by its name in the specification ("users.csv"). Files SERS does
    not read (roles.csv, demographics.csv...) are passed over."""
    files = list(files)
    if not files:
        problems.add("", None, "", _("Choose the export's zip file, or its CSV files."))
        return {}
    zips = [f for f in files if str(f.name).lower().endswith(".zip")]
    if zips and len(files) > 1:
        problems.add("", None, "", _("Upload either the zip archive or the CSV files, not both."))
        return {}
    if zips:
        return _read_zip(zips[0], problems)
    texts: dict[str, str] = {}
    for upload in files:
        name = _CANONICAL.get(str(upload.name).rsplit("/", 1)[-1].lower())
        if name is None:
            if not str(upload.name).lower().endswith(".csv"):
                problems.add(
                    str(upload.name), None, "", _("Upload the export's .csv files or its .zip.")
                )
            continue
        if name in texts:
            problems.add(name, None, "", _("This file was chosen twice."))
            continue
        _check(name, upload, texts, problems)
    return texts


def _read_zip(upload, problems: Problems) -> dict[str, str]:
    try:
        archive = check_zip(
            upload,
            wanted=lambda name: name.lower() in _CANONICAL,
            max_bytes=_max_bytes(),
            max_member_bytes=_max_bytes(),
            max_unpacked_bytes=MAX_UNPACKED_BYTES,
        )
    except UploadRefused as error:
        problems.add(str(upload.name), None, "", _refusal(error))
        return {}
    texts: dict[str, str] = {}
    for member, content in archive.members.items():
        name = _CANONICAL[member.lower()]
        if name in texts:
            problems.add(name, None, "", _("The zip archive holds this file twice."))
            continue
        _check(name, ContentFile(content, name=name), texts, problems)
    return texts


def _check(name: str, upload, texts: dict[str, str], problems: Problems) -> None:
    try:
        checked = check_upload(upload, kinds=("csv",), max_bytes=_max_bytes())
    except UploadRefused as error:
        problems.add(name, None, "", _refusal(error))
        return
    texts[name] = checked.text or ""
