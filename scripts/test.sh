#!/usr/bin/env bash
# Install what the tests need (venv, packages, Debian's Chromium) and run them.
#   bash scripts/test.sh                 # on SQLite
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/huying bash scripts/test.sh
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/pdftoppm ] || [ ! -x /usr/sbin/mosquitto ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils mosquitto >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils mosquitto >/dev/null
  fi
fi
exec .venv/bin/pytest "$@"
