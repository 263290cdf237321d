"""Report files in S3-compatible object storage, spoken to over HTTP (the S3 protocol).

The server is a real one on a local port: the one .ci/run starts, or moto's server run by
the fixture (tests/multihost/conftest.py). A report is built into a private bucket; its
download checks the user's permission and then redirects to a signed link that expires
within a minute, or streams the file through the app; the object itself is never public.
The local folder stays the default (the reports tests run on it).
"""

import urllib.error
import urllib.request
from email.message import Message
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import FileSystemStorage, storages
from django.urls import reverse

from accesslog.models import AccessLogEntry
from accounts.models import Role
from operations.health import probe_storage
from reports.models import ReportJob
from reports.services import report_files_expire, report_job_run
from sers.settings.backends import file_storage
from tests.factories import make_staff
from tests.reports.conftest import College

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def built_report(college: College, *, file_format: str = "csv") -> ReportJob:
    job = ReportJob.objects.create(
        kind="transcript_credit",
        requested_by=college.registrar,
        college=college.college,
        file_format=file_format,
    )
    assert report_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    return job


def fetch(url: str) -> tuple[int, Message, bytes]:
    """GET over HTTP, as a browser following the redirect would."""
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the test's server
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_default_is_the_local_folder_streamed(settings, monkeypatch):
    monkeypatch.delenv("SERS_S3_BUCKET", raising=False)
    assert file_storage() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert isinstance(storages["default"], FileSystemStorage)
    assert settings.SERS_FILE_DOWNLOADS == "stream"


def test_the_s3_settings_keep_the_bucket_private_and_links_short(monkeypatch):
    monkeypatch.setenv("SERS_S3_BUCKET", "sers-files")
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", "https://objects.example.org")
    monkeypatch.setenv("SERS_S3_PREFIX", "wa")
    storage = file_storage()
    options = storage["OPTIONS"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "sers-files"
    assert options["location"] == "wa"
    assert options["default_acl"] == "private"
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] == 60
    assert options["addressing_style"] == "path"  # another S3-compatible server
    assert "access_key" not in options  # boto3's chain: the environment or the machine
    assert "secret_key" not in options


def test_a_report_is_written_to_the_bucket_and_downloaded_by_a_signed_link(
    client, college, s3_storage
):
    enrollment = college.eligible()
    job = built_report(college)
    bucket, s3 = s3_storage["bucket"], s3_storage["client"]

    # Written over S3: a private object at the job's name.
    stored = s3.get_object(Bucket=bucket, Key=job.file)
    content = stored["Body"].read()
    assert enrollment.student.sers_id in content.decode("utf-8-sig")
    assert job.file == f"reports/jobs/{job.pk}/{job.file_name}"
    grants = s3.get_object_acl(Bucket=bucket, Key=job.file)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner only
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)

    client.force_login(college.registrar)
    response = client.get(reverse("reports:report_job_download", args=[job.pk]))

    # Permission checked, the download logged, then a redirect to a signed, short link.
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    link = urlsplit(response["Location"])
    assert f"{link.scheme}://{link.netloc}" == s3_storage["endpoint"]
    query = parse_qs(link.query)
    assert query["X-Amz-Expires"] == ["60"]
    assert query["X-Amz-Signature"][0]
    assert query["response-content-disposition"] == [f'attachment; filename="{job.file_name}"']
    assert AccessLogEntry.objects.filter(action="download", actor=college.registrar).count() == 1

    status, headers, body = fetch(response["Location"])
    assert status == 200
    assert body == content
    assert headers["Content-Disposition"] == f'attachment; filename="{job.file_name}"'
    assert headers["Content-Type"] == "text/csv; charset=utf-8"

    # The same object without a signature is refused: the bucket is not public.
    status, _headers, body = fetch(f"{s3_storage['endpoint']}/{bucket}/{job.file}")
    assert status == 403, body


def test_a_download_from_the_bucket_can_be_streamed_by_the_app(
    client, college, settings, s3_storage
):
    college.eligible()
    job = built_report(college, file_format="xlsx")
    settings.SERS_FILE_DOWNLOADS = "stream"
    client.force_login(college.registrar)

    response = client.get(reverse("reports:report_job_download", args=[job.pk]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    stored = s3_storage["client"].get_object(Bucket=s3_storage["bucket"], Key=job.file)
    assert b"".join(response.streaming_content) == stored["Body"].read()


def test_no_signed_link_without_permission(client, college, year, s3_storage):
    college.eligible()
    job = built_report(college)
    url = reverse("reports:report_job_download", args=[job.pk])

    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("accounts:login"))
    client.force_login(make_staff(Role.TEACHER, college.section.high_school))
    assert client.get(url).status_code == 403  # the wrong role
    client.force_login(make_staff(Role.REGISTRAR, College(year).college))
    assert client.get(url).status_code == 404  # another college's registrar
    assert not AccessLogEntry.objects.filter(action="download").exists()


def test_a_missing_object_is_explained_and_gets_no_link(client, college, s3_storage):
    college.eligible()
    job = built_report(college)
    s3_storage["client"].delete_object(Bucket=s3_storage["bucket"], Key=job.file)
    client.force_login(college.registrar)

    response = client.get(reverse("reports:report_job_download", args=[job.pk]), follow=True)

    assert b"file of this report is missing" in response.content
    assert not AccessLogEntry.objects.filter(action="download").exists()


def test_expired_files_are_deleted_from_the_bucket(college, s3_storage):
    college.eligible()
    job = built_report(college)
    ReportJob.objects.filter(pk=job.pk).update(expires_at=job.finished_at)

    assert report_files_expire() == 1

    listed = s3_storage["client"].list_objects_v2(Bucket=s3_storage["bucket"])
    assert listed.get("KeyCount", 0) == 0


def test_readiness_checks_the_bucket_takes_a_write(s3_storage):
    assert probe_storage() == ""
    listed = s3_storage["client"].list_objects_v2(Bucket=s3_storage["bucket"])
    assert listed.get("KeyCount", 0) == 0  # the probe's object is deleted again
