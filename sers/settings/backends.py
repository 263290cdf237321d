"""The databases and the file storage, built from environment variables (README:
Configuration, and "Running on several machines")."""

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_choice, env_int, env_str

POOLERS = ["none", "pgbouncer"]


def database(url: str, *, pooler: str = "none") -> dict:
    """One entry of DATABASES for `url`, with the options its engine (and pooler) needs.

    - SQLite (the embedded demo): WAL and a busy timeout, so the demo server and the
      in-process tasks share the file.
    - PostgreSQL: parameters bound by the server, and psycopg 3 prepares a statement run
      DATABASE_PREPARE_THRESHOLD times on a connection (Django turns that off unless
      OPTIONS asks): PostgreSQL then plans it once, not on every request (state-size data:
      the roster 22 -> 11 ms, grade save 48 -> 34 ms).
    - PostgreSQL behind PgBouncer in transaction pooling mode (`pooler="pgbouncer"`): each
      transaction may run on another server connection, so nothing may outlive one. No
      prepared statements (psycopg's prepare_threshold None) and client-side binding; no
      server-side cursors (`.iterator()` reads in chunks through a named cursor that would
      live past its transaction). Django's per-connection time zone is one of the
      parameters PgBouncer keeps per client, so it holds.
    """
    config = dj_database_url.parse(
        url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
        return config
    if config["ENGINE"] != "django.db.backends.postgresql":
        return config
    options = config.setdefault("OPTIONS", {})
    if pooler == "pgbouncer":
        options["server_side_binding"] = False
        options.pop("prepare_threshold", None)
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    elif env_bool("DATABASE_SERVER_SIDE_BINDING", True):
        options["server_side_binding"] = True
        options["prepare_threshold"] = env_int("DATABASE_PREPARE_THRESHOLD", 5)
    return config


def databases(default_url: str) -> dict:
    """The "default" database from DATABASE_URL (else `default_url`), and "replica" from
    DATABASE_REPLICA_URL when it is set.

    The replica is a streaming replica of the primary that reporting reads from
    (sers/db_router.py); under the test runner it is a mirror of "default" (the same
    test database's name, on the replica's server). DATABASE_POOLER applies to both.
    """
    pooler = env_choice("DATABASE_POOLER", POOLERS, "none")
    result = {"default": database(env_str("DATABASE_URL", default_url), pooler=pooler)}
    replica_url = env_str("DATABASE_REPLICA_URL", "")
    if replica_url:
        replica = database(replica_url, pooler=pooler)
        if replica["ENGINE"] != "django.db.backends.postgresql":
            raise ImproperlyConfigured("DATABASE_REPLICA_URL must point at PostgreSQL.")
        replica["TEST"] = {"MIRROR": "default"}
        result["replica"] = replica
    return result


def file_storage() -> dict:
    """STORAGES["default"]: generated report files (and anything else SERS stores).

    The local folder MEDIA_ROOT unless SERS_S3_BUCKET names a bucket of S3-compatible
    object storage (django-storages). Objects are private; a link to one is signed and
    expires after SERS_S3_URL_SECONDS. Credentials come from boto3's usual chain (the
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables, or the machine's role), never
    from the settings.
    """
    bucket = env_str("SERS_S3_BUCKET", "")
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    endpoint_url = env_str("AWS_S3_ENDPOINT_URL", "")
    # Another S3-compatible server (MinIO, Ceph...) is addressed as host/bucket/key.
    default_style = "path" if endpoint_url else "auto"
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "location": env_str("SERS_S3_PREFIX", ""),
            "addressing_style": env_choice(
                "AWS_S3_ADDRESSING_STYLE", ["auto", "path", "virtual"], default_style
            ),
            "signature_version": "s3v4",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("SERS_S3_URL_SECONDS", 60),
            # A report's file has a name of its own (the job id); a re-run replaces it.
            "file_overwrite": True,
        },
    }
