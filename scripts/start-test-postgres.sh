#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the test suite and prints its URL.
# The cluster lives in a temporary directory and listens on a Unix socket and 127.0.0.1 only.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
DIR=${PYSPACE_PG_DIR:-/tmp/pyspace-test-pg}
PORT=${PYSPACE_PG_PORT:-55432}
RUN_AS=()
# initdb refuses to run as root: use the postgres system user then.
if [[ $(id -u) -eq 0 ]]; then RUN_AS=(runuser -u postgres --); fi

if ! "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$DIR"
  "${RUN_AS[@]}" "$PGBIN/initdb" -D "$DIR" -U pyspace --auth=trust -E UTF8 >/dev/null
  "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  "${RUN_AS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U pyspace pyspace_test
fi
echo "postgresql+psycopg://pyspace@127.0.0.1:$PORT/pyspace_test"
