#!/usr/bin/env bash
# py.space's two commands:
#   ./manage.sh serve   set everything up and run the site on http://127.0.0.1:5000
#   ./manage.sh test    set everything up and run the whole test suite
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
  # bubblewrap isolates widget code; python3-venv makes the virtualenv on a bare Debian.
  apt_install bubblewrap python3-venv "$@"
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

serve() {
  python_env
  # instance/ holds the database and the keys: readable by this user only.
  umask 077
  chmod 700 instance
  log "Migrating the database"
  "$VENV/bin/flask" --app app db upgrade
  log "py.space is running on http://127.0.0.1:5000 (Ctrl-C stops it)"
  PYSPACE_RUN_POOL_WARM_ON_START=true exec "$VENV/bin/gunicorn" --workers 1 --threads 8 --bind "${PYSPACE_BIND:-127.0.0.1:5000}" \
    --access-logfile - app:app
}

run_tests() {
  python_env chromium postgresql
  log "Lint, format and types"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  "$VENV/bin/mypy"
  log "Test suite on SQLite"
  "$VENV/bin/python" -m pytest "$@"
  log "Request-level tests again on PostgreSQL"
  PYSPACE_TEST_DATABASE_URL=$(scripts/start-test-postgres.sh) \
    "$VENV/bin/python" -m pytest --ignore=tests/browser "$@"
}

case "${1:-}" in
  serve) shift; serve "$@" ;;
  test) shift; run_tests "$@" ;;
  *) echo "usage: $0 serve | test [pytest args]" >&2; exit 2 ;;
esac
