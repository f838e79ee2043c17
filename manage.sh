#!/usr/bin/env bash
# py.space's commands:
#   ./manage.sh serve               set everything up and run the site on http://127.0.0.1:5000
#   ./manage.sh worker [options]    run a queue consumer only (a worker host:
#                                   PYSPACE_QUEUE_URL=redis://…; options of `flask tasks consumer`)
#   ./manage.sh backup [FILE] [--with-keys]
#                                   write a backup of the running site (database + manifest)
#   ./manage.sh restore FILE [--keys KEYFILE] [--force]
#                                   restore a backup into this (empty) instance
#   ./manage.sh install-service     (as root) run the site as systemd services on boot, as the
#                                   system user pyspace with the instance in /var/lib/pyspace
#   ./manage.sh test [pytest args]  set everything up and run the whole test suite (lint, types,
#                                   SQLite, PostgreSQL)
#   ./manage.sh test --quick [pytest args]
#                                   the suite on SQLite only, without lint or browser tests
# All are idempotent: they install only what is missing. serve and worker install what serving
# needs (requirements.txt); test adds the test tools (requirements-test.txt).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
# The Python packages to install: test sets requirements-test.txt (which includes this one).
REQUIREMENTS=requirements.txt

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
  want=$(cat requirements.txt "$REQUIREMENTS" | sha256sum | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    log "Installing Python packages"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r "$REQUIREMENTS"
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
  "$VENV/bin/flask" --app app sandbox check
  # Once per Pyodide version: Python started in Chromium and saved, restored by every GUI
  # frame instead of starting again (pyspace/gui/snapshot.py). Without it frames are slower.
  log "Checking the GUI frames' Pyodide snapshot"
  "$VENV/bin/python" -c 'import pyspace.gui.snapshot as s; raise SystemExit(s.main())'
  # The queue consumer (background and scheduled tasks, and the scheduler) runs beside the web
  # server and stops with it; with no PYSPACE_QUEUE_URL its queue is instance/queue.sqlite.
  # /metrics adds up the counts of the web server and the consumer: both write them here.
  export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-${PYSPACE_INSTANCE_PATH:-$PWD/instance}/metrics}
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete
  start_sandbox_service
  log "Starting the queue consumer"
  "$VENV/bin/flask" --app app tasks consumer &
  consumer=$!
  trap 'kill "$consumer" "$sandboxes" 2>/dev/null; wait "$consumer" "$sandboxes" 2>/dev/null' EXIT INT TERM
  log "py.space is running on http://127.0.0.1:5000 (Ctrl-C stops it)"
  "$VENV/bin/gunicorn" -c python:pyspace.gunicorn_config app:app
}

worker() {
  python_env
  "$VENV/bin/python" -m pyspace.config
  umask 077
  mkdir -p "${PYSPACE_INSTANCE_PATH:-instance}"
  start_sandbox_service
  trap 'kill "$sandboxes" 2>/dev/null; wait "$sandboxes" 2>/dev/null' EXIT INT TERM
  # A worker host needs the same DATABASE_URL, PYSPACE_SECRETS_KEY and PYSPACE_QUEUE_URL as the
  # web hosts; the web hosts run the migrations.
  log "py.space worker: executing queued runs (Ctrl-C stops it)"
  "$VENV/bin/flask" --app app tasks consumer "$@"
}

# The machine's sandbox service (pyspace/sandbox/service.py): the one warm pool and the fair
# queues, asked by every web worker and the consumer over a socket in the instance folder.
start_sandbox_service() {
  export PYSPACE_SANDBOX_SERVICE=${PYSPACE_SANDBOX_SERVICE:-${PYSPACE_INSTANCE_PATH:-$PWD/instance}/sandbox.sock}
  log "Starting the sandbox service"
  rm -f "$PYSPACE_SANDBOX_SERVICE"  # a socket left by a service that was killed
  "$VENV/bin/flask" --app app sandbox serve &
  sandboxes=$!
  local waited=0
  until [[ -S $PYSPACE_SANDBOX_SERVICE ]]; do
    if ! kill -0 "$sandboxes" 2>/dev/null || ((waited++ > 600)); then
      echo "The sandbox service did not start (its messages are above)." >&2
      exit 1
    fi
    sleep 0.1
  done
}

# Backups are read by the site's user only: they hold password hashes and encrypted secrets.
site_command() {
  [[ -x $VENV/bin/flask ]] || python_env
  umask 077
  exec "$VENV/bin/flask" --app app site "$@"
}

install_service() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-service writes /etc/systemd/system and adds a system user: run it as root" >&2
    exit 1
  fi
  python_env chromium
  local user=pyspace instance=/var/lib/pyspace
  if ! id "$user" >/dev/null 2>&1; then
    log "Adding the system user $user (home $instance)"
    useradd --system --home-dir "$instance" --shell /usr/sbin/nologin "$user"
  fi
  install -d -m 0700 -o "$user" -g "$user" "$instance"
  # The service user reads the code and runs the virtualenv; it never writes the checkout.
  chmod o+rx "$PWD" "$PWD/.." 2>/dev/null || true
  log "Writing the systemd units"
  "$VENV/bin/flask" --app app site service-units --user "$user" --instance "$instance"
  systemctl daemon-reload
  systemctl enable --now pyspace-sandbox.service pyspace-web.service pyspace-worker.service
  log "py.space runs as $user on ${PYSPACE_BIND:-127.0.0.1:5000}; settings go in /etc/pyspace.env"
  cat <<'HINT'
Put a TLS proxy in front and set PYSPACE_SESSION_COOKIE_SECURE=true and PYSPACE_TRUSTED_PROXIES=1
in /etc/pyspace.env. Caddy (certificates are automatic):
    py.example.org {
        reverse_proxy 127.0.0.1:5000
    }
nginx (with a certificate from certbot):
    location / {
        proxy_pass http://127.0.0.1:5000;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
Check it: curl -s http://127.0.0.1:5000/healthz ; logs: journalctl -u pyspace-web -u pyspace-worker
HINT
}

run_tests() {
  # --quick: the suite once on SQLite, without lint, browser tests or the PostgreSQL pass.
  # Other arguments go to pytest as they are (./manage.sh test -k secrets, -m sandbox, a path).
  local quick=""
  # pytest-xdist workers (tests/conftest.py gives each a database of its own): two per core,
  # at most 8, since a test spends about half its time waiting for a sandbox, Chromium or the
  # database (on 2 cores: 4 workers 7.7 min, 2 workers 12 min, 6 workers 8.3 min and timeouts).
  # PYSPACE_TEST_WORKERS=0 runs the suite in this one process, as plain pytest does.
  local cores
  cores=$(nproc)
  local workers=(-n "${PYSPACE_TEST_WORKERS:-$((cores < 4 ? 2 * cores : 8))}" --dist worksteal)
  if [[ ${1:-} == --quick ]]; then
    quick=1
    shift
  fi
  if [[ -n $quick ]]; then
    python_env
    log "Test suite on SQLite (quick: no lint, no browser tests, no PostgreSQL pass)"
    "$VENV/bin/python" -m pytest "${workers[@]}" -m "not browser" "$@"
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
  "$VENV/bin/python" -m pytest "${workers[@]}" "$@"
  # The tests marked `postgres` (every test that uses the app, outside tests/sandbox and
  # tests/browser: see tests/conftest.py) run again on PostgreSQL.
  log "Request-level tests again on PostgreSQL"
  PYSPACE_TEST_DATABASE_URL=$(scripts/start-test-postgres.sh) \
    "$VENV/bin/python" -m pytest "${workers[@]}" -m postgres "$@"
}

case "${1:-}" in
  serve) shift; serve "$@" ;;
  test) shift; REQUIREMENTS=requirements-test.txt; run_tests "$@" ;;
  worker) shift; worker "$@" ;;
  backup) shift; site_command backup "$@" ;;
  restore) shift; site_command restore "$@" ;;
  install-service) shift; install_service "$@" ;;
  *) echo "usage: $0 serve | worker | backup [FILE] | restore FILE | install-service | test [--quick] [pytest args]" >&2; exit 2 ;;
esac
