"""The production settings of a deployment on several machines, loaded in a subprocess
with a controlled environment (the helpers of tests/test_settings.py)."""

import json

from tests.test_settings import GOOD_PRODUCTION_ENV, run_python

SHOW = (
    "import json, django; django.setup(); from django.conf import settings; "
    "from django.core.files.storage import storages; "
    "print(json.dumps({"
    "'databases': sorted(settings.DATABASES), "
    "'cursors': [d['DISABLE_SERVER_SIDE_CURSORS'] for d in settings.DATABASES.values()], "
    "'options': settings.DATABASES['default'].get('OPTIONS', {}), "
    "'mirror': settings.DATABASES.get('replica', {}).get('TEST', {}).get('MIRROR'), "
    "'replica_reads': settings.SERS_REPLICA_READS, "
    "'storage': type(storages['default']).__name__, "
    "'bucket': getattr(storages['default'], 'bucket_name', None), "
    "'acl': getattr(storages['default'], 'default_acl', None), "
    "'downloads': settings.SERS_FILE_DOWNLOADS, "
    "'broker': settings.CELERY_BROKER_TRANSPORT_OPTIONS, "
    "'cache_prefix': settings.CACHES['default'].get('KEY_PREFIX')}))"
)

SEVERAL_MACHINES = {
    **GOOD_PRODUCTION_ENV,
    "DATABASE_URL": "postgres://sers:secret@pgbouncer.invalid:6432/sers",
    "DATABASE_POOLER": "pgbouncer",
    "DATABASE_REPLICA_URL": "postgres://sers:secret@replica.invalid:5432/sers",
    "SERS_S3_BUCKET": "sers-files",
    "AWS_S3_ENDPOINT_URL": "https://objects.invalid",
    "SERS_REDIS_PREFIX": "wa:",
}


def show(**env: str | None) -> dict:
    result = run_python(["-c", SHOW], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_on_several_machines():
    shown = show(**SEVERAL_MACHINES)
    assert shown["databases"] == ["default", "replica"]
    assert shown["cursors"] == [True, True]
    assert shown["options"] == {"server_side_binding": False}
    assert shown["mirror"] == "default"
    assert shown["replica_reads"] is True
    assert shown["storage"] == "S3Storage"
    assert (shown["bucket"], shown["acl"]) == ("sers-files", "private")
    assert shown["downloads"] == "redirect"
    assert shown["broker"]["global_keyprefix"] == "wa:"
    assert shown["cache_prefix"] == "wa:"

    check = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **SEVERAL_MACHINES
    )
    assert check.returncode == 0, check.stderr


def test_production_on_one_machine_keeps_local_files_and_one_database():
    shown = show(**GOOD_PRODUCTION_ENV)
    assert shown["databases"] == ["default"]
    assert shown["replica_reads"] is False
    assert (shown["storage"], shown["downloads"]) == ("FileSystemStorage", "stream")
    assert shown["options"] == {"server_side_binding": True, "prepare_threshold": 5}


def test_signed_links_need_object_storage():
    refused = run_python(["-c", SHOW], **{**GOOD_PRODUCTION_ENV, "SERS_FILE_DOWNLOADS": "redirect"})
    assert refused.returncode != 0
    assert "SERS_FILE_DOWNLOADS=redirect needs object storage" in refused.stderr
