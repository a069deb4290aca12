#!/usr/bin/env bash
# Install what the tests need (venv, packages, Debian's Chromium) and run them.
#   bash scripts/test.sh                 # on SQLite
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/huying bash scripts/test.sh
# Extra arguments go to pytest; the suite runs on two processes unless they say otherwise (below).
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
# Two test processes by default (pytest-xdist; each has its own test database, _gw0 and _gw1):
# HUYING_TEST_WORKERS=4 (or auto) for more, 0 for one process. Passing -n, -p no:xdist or --pdb
# overrides it. loadfile: a file's tests share a worker, so module and class fixtures (a migrated
# database, 越秀区 loaded once) are built once. (loadgroup's xdist_group marks do nothing under pytest 9.2.)
workers=(-n "${HUYING_TEST_WORKERS:-2}" --dist loadfile)
for arg in "$@"; do
  case "$arg" in
    -n|-n[0-9]*|-nauto|-nlogical|--numprocesses|--numprocesses=*|no:xdist|-pno:xdist|--pdb|--trace) workers=() ;;
  esac
done
exec .venv/bin/pytest ${workers[@]+"${workers[@]}"} "$@"
