#!/usr/bin/env bash
# Page benchmark against a real gunicorn: start it on loopback, run load_pages.py, stop it.
#
#   DATABASE_URL=sqlite:////tmp/sers-bench.sqlite3 bench/run_pages.sh [load_pages.py args]
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/sers_bench bench/run_pages.sh \
#       --paths /healthz / /accounts/login/ --concurrency 8 --duration 15
#
# The database must already be migrated and filled (manage.py demo_data, or the data-size
# benchmark). Environment: DATABASE_URL (required), BENCH_PORT (default: a free port),
# BENCH_WORKERS (gunicorn workers, default 2), DJANGO_SETTINGS_MODULE (default
# sers.settings.dev, run with DEBUG=false so no per-query debug overhead), REDIS_URL
# (optional: the Redis cache, as in production).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
: "${DATABASE_URL:?set DATABASE_URL to the (migrated, filled) database to benchmark}"
export DATABASE_URL
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-sers.settings.dev}"
export DEBUG="${DEBUG:-false}"
workers="${BENCH_WORKERS:-2}"
port="${BENCH_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
log="$(mktemp "${TMPDIR:-/tmp}/sers-bench-gunicorn.XXXXXX")"

"$PY" -m gunicorn sers.wsgi:application \
    --bind "127.0.0.1:$port" \
    --workers "$workers" \
    --timeout 120 \
    --access-logfile /dev/null \
    --error-logfile "$log" &
gunicorn_pid=$!

# shellcheck disable=SC2317  # called by the EXIT trap
stop() {
    if kill -0 "$gunicorn_pid" 2>/dev/null; then
        kill -TERM "$gunicorn_pid" 2>/dev/null || true
        wait "$gunicorn_pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap stop EXIT

for _ in $(seq 1 60); do
    if "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
        "http://127.0.0.1:$port/healthz" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$gunicorn_pid" 2>/dev/null; then
        cat "$log" >&2
        echo "run_pages: gunicorn exited" >&2
        exit 1
    fi
    sleep 0.5
done

echo "gunicorn: $workers workers on 127.0.0.1:$port, $DJANGO_SETTINGS_MODULE, DEBUG=$DEBUG"
echo "database: ${DATABASE_URL%%:*}"
status=0
"$PY" "$ROOT/bench/load_pages.py" "http://127.0.0.1:$port" "$@" || status=$?
exit "$status"
