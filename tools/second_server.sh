#!/usr/bin/env bash
# Start (or stop) a throw-away server of Debian's PostgreSQL 15 (Unix socket in DIR), so the
# suite can run against a second major version: `tools/second_server.sh start DIR` prints
# the DSN to use as PGWATCH_TEST_DSN; `tools/second_server.sh stop DIR` ends it.
# The server runs as the `postgres` system user when started by root (initdb refuses
# root), trusting local connections as the embedded test server does (tests that need a
# password add their own pg_hba line) and wal_level=logical.
set -euo pipefail
bin=${PG15_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?start|stop}
dir=${2:?a scratch directory}
port=${PG15_PORT:-54315}
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 start -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c wal_level=logical -c fsync=off" >/dev/null
    echo "host=$dir port=$port user=postgres dbname=postgres"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
esac
