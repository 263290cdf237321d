# The engines SERS runs on across several machines, started next to the local PostgreSQL
# for the tests (README: Running on several machines). Sourced by .ci/run; each function
# exports the URL the tests read and adds its clean-up to the CLEANUP array:
#
#   start_replica     a streaming replica of the local PostgreSQL (pg_basebackup -R into a
#                     temporary folder, its own postgres on a free port, as the postgres
#                     user): SERS_TEST_REPLICA_URL
#   start_pgbouncer   Debian's PgBouncer in transaction pooling mode on a free port, as the
#                     postgres user, with a generated ini: SERS_TEST_PGBOUNCER_URL (its
#                     one-connection probe pool), PGBOUNCER_PORT
#   start_s3          moto's standalone S3 server on a free port, the stand-in for an
#                     S3-compatible object store (none is packaged by Debian):
#                     SERS_TEST_S3_ENDPOINT_URL
#
# Needs: PostgreSQL on 127.0.0.1:5432 (user postgres, trust), the pgbouncer package, and
# .venv (moto[server]). The caller defines CLEANUP, fail, wait_for and PY.

ci_free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ci_psql() { # ci_psql SQL: one value from the primary, as user postgres
    psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qAt -c "$1"
}

ci_streaming() { # a replica streams from the primary
    [ "$(ci_psql "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" -ge 1 ]
}

start_replica() {
    local major pg_bin hba dir port name value
    major="$(ci_psql 'SELECT current_setting($$server_version_num$$)::int / 10000')"
    pg_bin="/usr/lib/postgresql/$major/bin"
    [ -x "$pg_bin/postgres" ] || fail "no PostgreSQL $major server binaries in $pg_bin"
    # Replication connections match only "replication" lines of pg_hba.conf (not "all").
    # The first matching line wins, so the line goes first; then the server reloads it.
    hba="$(ci_psql 'SHOW hba_file')"
    if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        echo "pg_hba.conf: replication connections from 127.0.0.1 (trust), first line"
        sed -i '1i host replication all 127.0.0.1/32 trust' "$hba"
        ci_psql 'SELECT pg_reload_conf()' >/dev/null
        sleep 1
    fi
    [ "$(ci_psql 'SHOW wal_level')" != minimal ] || fail "the primary's wal_level is minimal"

    dir="$(mktemp -d /tmp/sers-ci-replica.XXXXXX)"
    chown postgres: "$dir"
    port="$(ci_free_port)"
    CLEANUP+=("runuser -u postgres -- '$pg_bin/pg_ctl' -D '$dir/data' -m immediate stop >/dev/null 2>&1; rm -rf '$dir'")
    runuser -u postgres -- "$pg_bin/pg_basebackup" -R -X stream -c fast \
        -h 127.0.0.1 -p 5432 -U postgres -D "$dir/data" \
        || fail "pg_basebackup could not copy the primary"
    # Debian keeps the configuration outside the data folder: the replica gets its own.
    # A hot standby needs these at least as high as the primary's.
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$dir'"
        echo "hot_standby = on"
        echo "hot_standby_feedback = on"
        for name in max_connections max_worker_processes max_wal_senders \
            max_prepared_transactions max_locks_per_transaction; do
            value="$(ci_psql "SHOW $name")"
            echo "$name = $value"
        done
    } >"$dir/data/postgresql.conf"
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$dir/data/pg_hba.conf"
    : >"$dir/data/pg_ident.conf"
    chown postgres: "$dir/data/postgresql.conf" "$dir/data/pg_hba.conf" "$dir/data/pg_ident.conf"
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/replica.log" -w -t 60 start \
        >/dev/null || { cat "$dir/replica.log"; fail "the replica did not start"; }
    [ "$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -c 'SELECT pg_is_in_recovery()')" = t ] \
        || fail "the replica on port $port is not in recovery"
    wait_for 30 "streaming replication" ci_streaming
    echo "replica: port $port, streaming from 127.0.0.1:5432"
    export SERS_TEST_REPLICA_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

start_pgbouncer() {
    local dir port version
    command -v pgbouncer >/dev/null 2>&1 || fail "pgbouncer is not installed"
    dir="$(mktemp -d /tmp/sers-ci-pgbouncer.XXXXXX)"
    port="$(ci_free_port)"
    # Any database name is passed through to the local server (pytest-django creates its
    # test databases through it). sers_pool_probe has a single server connection: the
    # test that shows why prepared statements are off behind a transaction pooler.
    cat >"$dir/pgbouncer.ini" <<EOF
[databases]
sers_pool_probe = host=127.0.0.1 port=5432 dbname=postgres pool_size=1
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    # PgBouncer 1.21+ can keep prepared statements per client (on by default in newer ones):
    # off, as SERS's settings behind a pooler assume and the control test expects. Older
    # versions do not know the setting and refuse to start with it.
    version="$(pgbouncer --version | head -n 1 | cut -d' ' -f2)"
    if [ "$(printf '%s\n' 1.21 "$version" | sort -V | head -n 1)" = 1.21 ]; then
        echo 'max_prepared_statements = 0' >>"$dir/pgbouncer.ini"
    fi
    echo '"postgres" ""' >"$dir/userlist.txt"
    chown -R postgres: "$dir"
    CLEANUP+=("kill -TERM \"\$(cat '$dir/pgbouncer.pid' 2>/dev/null)\" 2>/dev/null; sleep 0.5; rm -rf '$dir'")
    runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini" \
        || { cat "$dir/pgbouncer.log" 2>/dev/null; fail "pgbouncer did not start"; }
    wait_for 30 "pgbouncer" psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -c 'SELECT 1'
    echo "pgbouncer $(pgbouncer --version | head -n 1 | cut -d' ' -f2): port $port, transaction pooling"
    export PGBOUNCER_PORT="$port"
    export SERS_TEST_PGBOUNCER_URL="postgres://postgres@127.0.0.1:$port/sers_pool_probe"
}

start_s3() {
    local port log pid
    port="$(ci_free_port)"
    log="$(mktemp /tmp/sers-ci-s3.XXXXXX)"
    "$ROOT/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    pid=$!
    CLEANUP+=("kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f '$log'")
    wait_for 60 "the S3 server (moto)" curl -sf -o /dev/null "http://127.0.0.1:$port/"
    echo "S3 (moto $("$PY" -c 'import moto; print(moto.__version__)')): http://127.0.0.1:$port"
    export SERS_TEST_S3_ENDPOINT_URL="http://127.0.0.1:$port"
}

# Run alone (`bash .ci/services.sh`, as root): start all three, print the variables for
# the tests, and keep them running until Ctrl-C.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    cd "$(dirname "$0")/.."
    ROOT="$(pwd)"
    PY="$ROOT/.venv/bin/python"
    CLEANUP=()
    fail() { printf 'services: FAILED: %s\n' "$*" >&2; exit 1; }
    wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
        local limit=$1 what=$2 i
        shift 2
        for ((i = 0; i < limit; i++)); do
            "$@" >/dev/null 2>&1 && return 0
            sleep 1
        done
        fail "$what did not come up within ${limit}s"
    }
    trap 'for item in "${CLEANUP[@]+"${CLEANUP[@]}"}"; do eval "$item" || true; done' EXIT
    start_replica
    start_pgbouncer
    start_s3
    printf '\nexport SERS_TEST_REPLICA_URL=%s SERS_TEST_PGBOUNCER_URL=%s SERS_TEST_S3_ENDPOINT_URL=%s\n' \
        "$SERS_TEST_REPLICA_URL" "$SERS_TEST_PGBOUNCER_URL" "$SERS_TEST_S3_ENDPOINT_URL"
    printf 'PgBouncer for DATABASE_URL: postgres://postgres@127.0.0.1:%s/<database> with DATABASE_POOLER=pgbouncer\n' \
        "$PGBOUNCER_PORT"
    echo "Running until Ctrl-C."
    sleep infinity &
    wait $!
fi
