#!/usr/bin/env bash
# py.space's two commands:
#   ./manage.sh serve   set everything up and run the site on http://127.0.0.1:5000
#   ./manage.sh test    set everything up and run the whole test suite (lint, SQLite, PostgreSQL)
#   ./manage.sh test --quick [pytest args]   the suite on SQLite only, without lint or browsers
#   ./manage.sh worker  run a queue consumer only (a worker host: PYSPACE_QUEUE_URL=redis://…)
# Both are idempotent: they install only what is missing.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian packages, installed only when missing (needs root or sudo).
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  log "Installing Debian packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_env() {
  # bubblewrap isolates widget code, python3-seccomp (libseccomp's own bindings) builds its
  # syscall filter, passt (pasta) and nftables give each run a network of its own, outbound
  # only; python3-venv makes the virtualenv on a bare Debian.
  apt_install bubblewrap python3-seccomp passt nftables python3-venv "$@"
  run_network_device
  if [[ ! -x $VENV/bin/python ]]; then
    log "Creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local want stamp=$VENV/.requirements.sha
  want=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    log "Installing Python packages"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r requirements-test.txt
    echo "$want" > "$stamp"
  fi
  if [[ -x scripts/install-sandbox-packages.sh ]]; then
    scripts/install-sandbox-packages.sh
  fi
}

# pasta runs as nobody and opens /dev/net/tun: Debian's udev makes it 0666, some containers 0600.
run_network_device() {
  [[ -c /dev/net/tun ]] || return 0
  [[ $(stat -c %a /dev/net/tun) == 666 ]] && return 0
  if [[ $(id -u) -eq 0 ]]; then
    log "Making /dev/net/tun usable by unprivileged users (Debian's default, mode 0666)"
    chmod 0666 /dev/net/tun
  fi
}

serve() {
  # chromium makes the GUI frames' Pyodide snapshot (below) and drives the browser tests.
  python_env chromium
  # A typo in a PYSPACE_* variable stops here, with the variable named, before anything starts.
  "$VENV/bin/python" -m pyspace.config
  # instance/ holds the database and the keys: readable by this user only.
  umask 077
  chmod 700 instance
  log "Migrating the database"
  "$VENV/bin/flask" --app app db upgrade
  # Copies the sandbox's files where its user can read them and starts one real sandbox:
  # stops here with the cause and the fix when widget code couldn't run.
  log "Checking that a sandbox starts"
  "$VENV/bin/python" -m pyspace.sandbox.check
  # Once per Pyodide version: Python started in Chromium and saved, restored by every GUI
  # frame instead of starting again (pyspace/gui/snapshot.py). Without it frames are slower.
  log "Checking the GUI frames' Pyodide snapshot"
  "$VENV/bin/python" -c 'import pyspace.gui.snapshot as s; raise SystemExit(s.main())'
  # The queue consumer (background and scheduled tasks, and the scheduler) runs beside the web
  # server and stops with it; with no PYSPACE_QUEUE_URL its queue is instance/queue.sqlite.
  log "Starting the queue consumer"
  "$VENV/bin/flask" --app app tasks consumer &
  consumer=$!
  trap 'kill "$consumer" 2>/dev/null; wait "$consumer" 2>/dev/null' EXIT INT TERM
  log "py.space is running on http://127.0.0.1:5000 (Ctrl-C stops it)"
  PYSPACE_RUN_POOL_WARM_ON_START=true "$VENV/bin/gunicorn" -c python:pyspace.gunicorn_config app:app
}

worker() {
  python_env
  "$VENV/bin/python" -m pyspace.config
  # A worker host needs the same DATABASE_URL, PYSPACE_SECRETS_KEY and PYSPACE_QUEUE_URL as the
  # web hosts; the web hosts run the migrations.
  log "py.space worker: executing queued runs (Ctrl-C stops it)"
  exec "$VENV/bin/flask" --app app tasks consumer "$@"
}

run_tests() {
  # --quick: the suite once on SQLite, without lint, browser tests or the PostgreSQL pass.
  # Other arguments go to pytest as they are (./manage.sh test -k secrets, -m sandbox, a path).
  local quick=""
  if [[ ${1:-} == --quick ]]; then
    quick=1
    shift
  fi
  if [[ -n $quick ]]; then
    python_env
    log "Test suite on SQLite (quick: no lint, no browser tests, no PostgreSQL pass)"
    "$VENV/bin/python" -m pytest -m "not browser" "$@"
    return
  fi
  python_env chromium postgresql redis-server
  # The queue tests run against a throwaway Redis on loopback (and skip without one).
  PYSPACE_TEST_REDIS_URL=$(scripts/start-test-redis.sh)
  export PYSPACE_TEST_REDIS_URL
  log "Lint, format and types"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  "$VENV/bin/mypy"
  log "Test suite on SQLite"
  "$VENV/bin/python" -m pytest "$@"
  # The tests marked `postgres` (every test that uses the app, outside tests/sandbox and
  # tests/browser: see tests/conftest.py) run again on PostgreSQL.
  log "Request-level tests again on PostgreSQL"
  PYSPACE_TEST_DATABASE_URL=$(scripts/start-test-postgres.sh) \
    "$VENV/bin/python" -m pytest -m postgres "$@"
}

case "${1:-}" in
  serve) shift; serve "$@" ;;
  test) shift; run_tests "$@" ;;
  worker) shift; worker "$@" ;;
  *) echo "usage: $0 serve | worker | test [--quick] [pytest args]" >&2; exit 2 ;;
esac
