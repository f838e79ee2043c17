#!/usr/bin/env bash
# Starts a throwaway Redis server on loopback for the test suite and prints its URL.
# It keeps nothing on disk, listens on 127.0.0.1 only, and is reused if already running.
set -euo pipefail
DIR=${PYSPACE_REDIS_DIR:-/tmp/pyspace-test-redis}
PORT=${PYSPACE_REDIS_PORT:-56379}
if ! redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
  mkdir -p "$DIR"
  redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --save "" --appendonly no \
    --protected-mode yes --daemonize yes --logfile "$DIR/redis.log" --pidfile "$DIR/redis.pid"
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
echo "redis://127.0.0.1:$PORT/0"
