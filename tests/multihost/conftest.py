"""Fixtures for SERS on several machines: an S3-compatible server, a bucket and the storage
settings that use it, the reporting replica, and a college ready for transcript reports.

The engines are real and spoken to over the network: the S3 server is the one .ci/run
starts (SERS_TEST_S3_ENDPOINT_URL; else moto's server in a thread of this process, still
over HTTP); the replica is a streaming replica of the test server (SERS_TEST_REPLICA_URL,
.ci/run starts one), and the replica tests are skipped, saying so, without it.
"""

import contextlib
import fcntl
import os
import tempfile
import time
import uuid

import boto3
import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from sers import db_router
from sers.settings.backends import file_storage
from tests.reports.conftest import College

S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sers-test", "AWS_SECRET_ACCESS_KEY": "sers-test-secret"}
S3_REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint():
    """The URL of an S3-compatible server."""
    url = os.environ.get("SERS_TEST_S3_ENDPOINT_URL")
    if url:
        yield url.rstrip("/")
        return
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@contextlib.contextmanager
def new_bucket(endpoint: str):
    """A new, empty, private bucket; emptied and removed afterwards."""
    client = s3_client(endpoint)
    name = f"sers-test-{uuid.uuid4().hex[:20]}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=item["Key"])
        client.delete_bucket(Bucket=name)


@pytest.fixture
def s3_bucket(s3_endpoint):
    with new_bucket(s3_endpoint) as name:
        yield name


def s3_environment(endpoint: str, bucket: str) -> dict[str, str]:
    """The environment variables a deployment sets to keep its files in `bucket`."""
    return {
        "SERS_S3_BUCKET": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": S3_REGION,
        **S3_CREDENTIALS,
    }


@pytest.fixture
def s3_storage(settings, monkeypatch, s3_endpoint, s3_bucket):
    """The default storage is the bucket, configured the way production reads it from the
    environment (sers.settings.backends.file_storage); downloads redirect to signed links."""
    for name, value in s3_environment(s3_endpoint, s3_bucket).items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": file_storage()}
    settings.SERS_FILE_DOWNLOADS = "redirect"
    return {"client": s3_client(s3_endpoint), "bucket": s3_bucket, "endpoint": s3_endpoint}


@pytest.fixture
def college(year, today):
    """A college with one agreement of two college courses (tests/reports/conftest.py)."""
    return College(year)


# --- the reporting replica -----------------------------------------------------------


class Replica:
    """The streaming replica of the test server, as the "replica" database."""

    def __init__(self):
        self.connection = connections[db_router.REPLICA]

    def value(self, sql: str):
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]

    def pause(self) -> None:
        """Stop replaying the primary's WAL: from now on the replica lags behind."""
        self.value("SELECT pg_wal_replay_pause()::text")
        deadline = time.monotonic() + 30
        while self.value("SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline, "the replica's replay did not pause"
            time.sleep(0.05)

    def resume(self) -> None:
        self.value("SELECT pg_wal_replay_resume()::text")

    def catch_up(self, timeout: float = 30) -> None:
        """Wait until the replica has replayed everything the primary committed so far."""
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            position = cursor.fetchone()[0]
        deadline = time.monotonic() + timeout
        while not db_router._replayed_to(position):
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


@contextlib.contextmanager
def _one_test_at_a_time(url: str):
    """Pausing the replica's replay holds up every database on it: the replica tests of
    parallel test processes (pytest -n) take turns."""
    name = f"sers-replica-{uuid.uuid5(uuid.NAMESPACE_URL, url)}.lock"
    path = os.path.join(tempfile.gettempdir(), name)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def replica(settings):
    """Reporting reads go to the real replica (SERS_TEST_REPLICA_URL) in this test."""
    url = os.environ.get("SERS_TEST_REPLICA_URL", "")
    if db_router.REPLICA not in settings.DATABASES:
        pytest.skip(
            "needs a streaming replica of the test server: set SERS_TEST_REPLICA_URL "
            "(.ci/run starts one)"
        )
    settings.SERS_REPLICA_READS = True
    settings.SERS_REPLICA_WAIT_SECONDS = 2
    with _one_test_at_a_time(url):
        handle = Replica()
        handle.resume()
        try:
            yield handle
        finally:
            handle.resume()
