#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's tests (see docs/TEAM_DATABASE.md):
#   scripts/pg-test-cluster.sh start DIR   -> prints the URL to export as
#                                           VITRINE_TEST_POSTGRES_URL
#   scripts/pg-test-cluster.sh stop DIR    -> stops it and removes DIR
# It lives in DIR, listens on 127.0.0.1 only, on VITRINE_TEST_PG_PORT (default
# 55432), with trust auth for one superuser role `vitrine`: no system cluster
# is touched. Durability is off (fsync, full pages): nothing here outlives
# the test run. Needs the Debian `postgresql` package (scripts/setup.sh
# --test-deps installs it); under root the server runs as user `postgres`.
set -euo pipefail
CMD=${1:?start|stop}
DIR=${2:?directory}
PORT=${VITRINE_TEST_PG_PORT:-55432}

VER=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$VER" ]; then
  echo "pg-test-cluster.sh: PostgreSQL is not installed; run scripts/setup.sh --test-deps (Debian package postgresql)" >&2
  exit 1
fi
BIN=/usr/lib/postgresql/$VER/bin

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$CMD" in
  start)
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
    as_pg "$BIN/initdb" -D "$DIR/data" -U vitrine --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=300" \
      start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    echo "postgres://vitrine@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    if [ -f "$DIR/data/postmaster.pid" ]; then
      as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$DIR"
    ;;
  *) echo "pg-test-cluster.sh: start|stop DIR" >&2; exit 2 ;;
esac
