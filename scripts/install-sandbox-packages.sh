#!/usr/bin/env bash
# Install the sandbox's packages (scripts/sandbox-requirements.txt) for Debian's python3 into
# .sandbox/site-packages, which every sandbox mounts read-only. Idempotent: does nothing when
# the installed set already matches the requirements file.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=scripts/sandbox-requirements.txt
TARGET=.sandbox/site-packages
STAMP=.sandbox/site-packages.sha
PIP=${PIP:-.venv/bin/pip}

want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [[ -f $STAMP && $(cat "$STAMP") == "$want" && -d $TARGET ]]; then
  exit 0
fi

printf '\033[1m==> %s\033[0m\n' "Installing the sandbox's Python packages into $TARGET"
# The sandbox runs Debian's python3, so ask for wheels built for that version, whatever
# Python runs pip; --no-deps + pinned dependencies keep the set exactly as listed.
version=$(/usr/bin/python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
rm -rf "$TARGET.new"
"$PIP" install -q --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version "$version" --target "$TARGET.new" -r "$REQUIREMENTS"
rm -rf "$TARGET"
mv "$TARGET.new" "$TARGET"
# Readable by the sandbox's unprivileged user; nobody may write there.
chmod -R a+rX,go-w "$TARGET"
echo "$want" > "$STAMP"
