#!/usr/bin/env bash
# A real Prometheus scrapes SERS (README: Metrics), called by .ci/run and runnable alone:
#
#   bash .ci/prometheus_check.sh
#
# Needs: the prometheus binary (Debian's `prometheus` package), PostgreSQL on
# 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379, and .venv (uv sync).
#
# On a throw-away database (sers_ci_metrics, with the demo data) and Redis database 13,
# with production settings: gunicorn (2 workers, multiprocess metrics via gunicorn.conf.py)
# with SERS_METRICS_TOKEN, a prefork Celery worker (2 processes) with its metrics port,
# and Prometheus scraping both every second. .ci/prometheus_flow.py then signs in, fails
# and gets throttled, views a roster twice, saves a grade, registers, has a report job
# run on the worker, and asks Prometheus for every required series. Everything it
# started is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PY="$ROOT/.venv/bin/python"
STARTED=$SECONDS
PIDS=()
WORK="$(mktemp -d /tmp/sers-ci-prometheus.XXXXXX)"
DB=sers_ci_metrics
REDIS_DB=13

stop_all() {
    local pid
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
        >/dev/null 2>&1 || true
    redis-cli -h 127.0.0.1 -n "$REDIS_DB" flushdb >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap stop_all EXIT

die() {
    printf '\nprometheus_check: FAILED: %s\n' "$*" >&2
    local log
    for log in "$WORK"/*.log; do
        [ -f "$log" ] || continue
        printf -- '--- %s (last 30 lines) ---\n' "$(basename "$log")" >&2
        tail -n 30 "$log" >&2
    done
    exit 1
}

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

command -v prometheus >/dev/null 2>&1 || die "the prometheus binary is missing (apt-get install prometheus)"
prometheus --version 2>&1 | head -n 1

# --- settings: production, with the static files and media in the work folder ----------
mkdir -p "$WORK/static" "$WORK/media" "$WORK/mail" "$WORK/web-metrics" "$WORK/worker-metrics"
cat >"$WORK/ci_metrics_settings.py" <<'EOF'
import os

from sers.settings.production import *  # noqa: F403

STATIC_ROOT = os.environ["CI_STATIC_ROOT"]
EOF
TOKEN="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')"
WEB_PORT="$(free_port)"
WORKER_PORT="$(free_port)"
PROM_PORT="$(free_port)"
export PYTHONPATH="$WORK:$ROOT"
export DJANGO_SETTINGS_MODULE=ci_metrics_settings
export CI_STATIC_ROOT="$WORK/static"
export SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48)[:64])')"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
export EMAIL_FILE_PATH="$WORK/mail"
export ALLOWED_HOSTS=127.0.0.1,localhost
export MEDIA_ROOT="$WORK/media"
export SERS_METRICS_TOKEN="$TOKEN"
export SERS_BASE_URL="http://127.0.0.1:$WEB_PORT"
export LOG_LEVEL=WARNING

# --- a fresh database with the demo data ------------------------------------------------
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $DB" >/dev/null
redis-cli -h 127.0.0.1 -n "$REDIS_DB" flushdb >/dev/null
"$PY" manage.py migrate --noinput >"$WORK/setup.log" 2>&1 || die "migrate"
"$PY" manage.py collectstatic --noinput >>"$WORK/setup.log" 2>&1 || die "collectstatic"
"$PY" manage.py demo_data >>"$WORK/setup.log" 2>&1 || die "demo_data"
echo "database $DB ready with the demo data [$((SECONDS - STARTED))s]"

# --- the app, the worker, Prometheus ---------------------------------------------------
PROMETHEUS_MULTIPROC_DIR="$WORK/web-metrics" setsid "$ROOT/.venv/bin/gunicorn" \
    sers.wsgi:application --config "$ROOT/gunicorn.conf.py" \
    --bind "127.0.0.1:$WEB_PORT" --workers 2 --timeout 60 \
    </dev/null >"$WORK/gunicorn.log" 2>&1 &
PIDS+=($!)
# prefork, as in production: the pool's processes count in the worker's multiprocess folder.
PROMETHEUS_MULTIPROC_DIR="$WORK/worker-metrics" SERS_WORKER_METRICS_PORT="$WORKER_PORT" \
    setsid "$ROOT/.venv/bin/celery" -A sers worker --pool=prefork --concurrency=2 \
    --loglevel=WARNING --without-gossip --without-mingle \
    </dev/null >"$WORK/celery.log" 2>&1 &
PIDS+=($!)

cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sers-web
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: $WORK/token
    static_configs:
      - targets: ["127.0.0.1:$WEB_PORT"]
  - job_name: sers-worker
    static_configs:
      - targets: ["127.0.0.1:$WORKER_PORT"]
EOF
printf '%s' "$TOKEN" >"$WORK/token"
setsid prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
    </dev/null >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

up() {
    for _ in $(seq 1 60); do
        if curl -sf -o /dev/null "$@"; then return 0; fi
        sleep 0.5
    done
    return 1
}
up -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$WEB_PORT/healthz" || die "gunicorn did not answer"
up "http://127.0.0.1:$WORKER_PORT/metrics" || die "the worker's metrics port did not answer"
up "http://127.0.0.1:$PROM_PORT/-/ready" || die "Prometheus did not get ready"
echo "gunicorn :$WEB_PORT, worker metrics :$WORKER_PORT, Prometheus :$PROM_PORT [$((SECONDS - STARTED))s]"

# The endpoint is not public: no token and a wrong one get 404.
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/metrics")"
[ "$code" = 404 ] || die "GET /metrics without a token answered $code, not 404"
code="$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' \
    "http://127.0.0.1:$WEB_PORT/metrics")"
[ "$code" = 404 ] || die "GET /metrics with a wrong token answered $code, not 404"

# --- the flow, then Prometheus's answers -------------------------------------------------
SERS_APP_URL="http://127.0.0.1:$WEB_PORT" SERS_PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT" \
    "$PY" "$ROOT/.ci/prometheus_flow.py" || die "the metrics flow"

echo "--- a scrape of the app (sers_ lines, trimmed) ---"
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$WEB_PORT/metrics" \
    | grep '^sers_' | grep -v '_bucket{' | head -n 40
echo "prometheus_check: passed in $((SECONDS - STARTED))s"
