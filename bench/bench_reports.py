"""Report jobs at state scale: time and peak memory, next to PostgreSQL's own COPY.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_reports.py [--formats csv xlsx pesc]

Needs a database filled with `manage.py demo_data --size state` (see bench/README.md).
Measures, each in a fresh subprocess so its memory is its own:

1. the transcript-credit report of the college with the most rows ready to transcribe
   (every school year), as a real report job (`report_job_run`: permission check,
   stored row set, streamed file, access log), in each format asked for;
2. the statewide export of every enrollment of the current school year (CSV and XLSX);
3. for each, `COPY (the same SELECT) TO STDOUT` through psycopg's `cursor.copy()`,
   written to a file: the floor of reading those rows out of PostgreSQL.

Peak memory is the child's high-water mark of resident memory (VmHWM) during the run
alone: the mark is reset (/proc/self/clear_refs) after Django is set up and connected,
and the RSS at that point is printed as the baseline. With --tracemalloc the Python
heap's peak is printed too (slower). Finally it times the reports dashboard's
aggregates for state staff, for every breakdown. The jobs it creates are deleted at the
end unless --keep.
"""

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sers.settings.dev")
os.environ.pop("SERS_REPORT_CHUNK_DELAY_MS", None)


def _setup_django() -> None:
    import django

    django.setup()


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> int:
    """Reset the resident-memory high-water mark; returns the RSS now (KiB)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


# --- children: one measured run each --------------------------------------------------


def child_job(job_id: int, use_tracemalloc: bool) -> dict:
    from django.db import connection

    import reports.exporters  # noqa: F401 - loaded before measuring, as in a running worker
    from reports.models import ReportJob
    from reports.services import report_job_run

    connection.ensure_connection()
    baseline = _reset_peak()
    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    started = time.perf_counter()
    outcome = report_job_run(job_id=job_id)
    seconds = time.perf_counter() - started
    heap_peak = None
    if use_tracemalloc:
        import tracemalloc

        heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    job = ReportJob.objects.get(pk=job_id)
    return {
        "outcome": outcome,
        "error": job.error,
        "seconds": seconds,
        "rows": job.row_count,
        "bytes": job.file_size,
        "baseline_kb": baseline,
        "peak_kb": _status_kb("VmHWM"),
        "heap_peak_bytes": heap_peak,
    }


def _copy_sql(job_id: int):
    """The SELECT the job's exporter streams, with its parameters."""
    from accounts.permissions import access_for
    from reports.exporters import exporter_for
    from reports.models import ReportJob

    job = ReportJob.objects.select_related("college", "academic_year", "requested_by").get(
        pk=job_id
    )
    access = access_for(job.requested_by) if job.requested_by_id else None
    return exporter_for(job, access).queryset().query.sql_with_params()


def child_copy(job_id: int, out_path: str) -> dict:
    from django.db import connection

    sql, params = _copy_sql(job_id)
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection
    baseline = _reset_peak()
    started = time.perf_counter()
    lines = 0
    size = 0
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
    with (
        raw.cursor() as cursor,
        open(out_path, "wb") as handle,
        cursor.copy(statement, params) as copy,
    ):
        for data in copy:
            handle.write(data)
            lines += bytes(data).count(b"\n")
            size += len(data)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": lines - 1,
        "bytes": size,
        "baseline_kb": baseline,
        "peak_kb": _status_kb("VmHWM"),
    }


def run_child(*args: str) -> dict:
    env = {**os.environ}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the parent -----------------------------------------------------------------------


def _mb(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.0f}"


def _size(num: int | None) -> str:
    return "-" if num is None else f"{num / 1_000_000:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx", "pesc"])
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Keep the jobs it creates.")
    parser.add_argument("--json", help="Also write the numbers to this file.")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        _setup_django()
        kind, *rest = args.child
        if kind == "job":
            result = child_job(int(rest[0]), rest[1] == "1")
        else:
            result = child_copy(int(rest[0]), rest[1])
        print(json.dumps(result))
        return

    media = tempfile.mkdtemp(prefix="sers-bench-reports-")
    os.environ["MEDIA_ROOT"] = media
    _setup_django()

    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    from accesslog.models import AccessLogEntry, AccessLogStudent
    from accounts.models import Role, User
    from accounts.permissions import access_for
    from enrollment.models import Enrollment
    from enrollment.rules import eligible_for_transcription_q
    from organisations.models import College
    from organisations.selectors import academic_year_current
    from reports.models import ReportJob
    from reports.selectors import dashboard as dashboard_selectors

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to the PostgreSQL database with the state data.")
    state_user = User.objects.filter(memberships__role=Role.STATE_STAFF, is_active=True).first()
    if state_user is None:
        raise SystemExit("No state staff login: run `manage.py demo_data --size state` first.")
    year = academic_year_current()
    largest = (
        Enrollment.objects.filter(eligible_for_transcription_q())
        .values("section__articulation__college_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    college = College.objects.get(pk=largest["section__articulation__college_id"])
    print(
        f"Data: {Enrollment.objects.count():,} enrollments; {year} has "
        f"{Enrollment.objects.filter(section__academic_year=year).count():,}. Largest college "
        f"for transcription: {college.name} ({largest['n']:,} enrollments ready). "
        f"Chunk size {settings.SERS_REPORT_CHUNK_SIZE}."
    )

    runs = []
    created: list[int] = []

    def measure(label: str, **job_fields) -> None:
        job = ReportJob.objects.create(requested_by=state_user, **job_fields)
        created.append(job.pk)
        result = run_child("job", str(job.pk), "1" if args.tracemalloc else "0")
        if result["outcome"] != "done":
            raise SystemExit(f"{label}: {result['outcome']} {result['error']}")
        runs.append({"label": label, **result})
        if job.file_format == "csv":
            with tempfile.NamedTemporaryFile(suffix=".csv") as out:
                copy = run_child("copy", str(job.pk), out.name)
            runs.append({"label": "  COPY (same query) TO STDOUT, csv", **copy})

    for file_format in args.formats:
        measure(
            f"transcript-credit, largest college, {file_format}",
            kind=ReportJob.Kind.TRANSCRIPT_CREDIT,
            college=college,
            file_format=file_format,
        )
    for file_format in [f for f in args.formats if f != "pesc"]:
        measure(
            f"statewide enrollments {year}, {file_format}",
            kind=ReportJob.Kind.ENROLLMENTS,
            academic_year=year,
            file_format=file_format,
        )

    header = (
        f"{'report':44} {'rows':>9} {'file':>9} {'time s':>7} {'rows/s':>8} "
        f"{'peak MB':>8} {'base MB':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for run in runs:
        rate = run["rows"] / run["seconds"] if run["seconds"] else 0
        print(
            f"{run['label']:44} {run['rows']:>9,} {_size(run['bytes']):>9} "
            f"{run['seconds']:>7.2f} {rate:>8,.0f} {_mb(run['peak_kb']):>8} "
            f"{_mb(run['baseline_kb']):>8}"
            + (
                f"  heap peak {run['heap_peak_bytes'] / 1e6:.1f} MB"
                if run.get("heap_peak_bytes")
                else ""
            )
        )
    print(
        "\npeak MB: the child's resident-memory high-water mark during the run; base MB: "
        "its resident memory just before (Django loaded, database connected)."
    )

    # The dashboard's aggregates, in the request process, for state staff, counted live (the
    # page reads them precomputed: bench/bench_dashboard.py).
    access = access_for(state_user)
    print(f"\nReports dashboard for state staff, {year} (database aggregation, no summary tables):")
    dashboard_times = {}
    for key in dashboard_selectors.DIMENSIONS:
        started = time.perf_counter()
        dashboard_selectors.dashboard_report(
            access=access, academic_year_id=year.pk, dimension=key, live=True
        )
        dashboard_times[key] = time.perf_counter() - started
        print(f"  by {key:16} {dashboard_times[key]:6.2f} s")

    if args.json:
        Path(args.json).write_text(
            json.dumps({"runs": runs, "dashboard_seconds": dashboard_times}, indent=2)
        )
    if not args.keep:
        jobs = ReportJob.objects.filter(pk__in=created)
        entries = list(jobs.values_list("export_log_entry_id", flat=True))
        jobs.delete()
        AccessLogStudent.objects.filter(entry_id__in=entries).delete()
        AccessLogEntry.objects.filter(pk__in=entries).delete()
    print(f"\nFiles written under {media}")


if __name__ == "__main__":
    main()
