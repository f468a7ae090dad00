#!/usr/bin/env bash
# Set everything up and run the checks and tests:
#   bash scripts/test.sh [PYTEST_ARGS...]
# Creates .venv, installs minemap with its test extras, installs Chromium with
# apt-get where it can (for the browser tests), runs ruff and then pytest
# (unit, property, CLI, browser and notebook tests).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    echo "installing Chromium with apt-get for the browser tests..." >&2
    if ! { as_root apt-get update -qq && as_root apt-get install -y -qq chromium >/dev/null; }; then
        echo "Chromium could not be installed: the browser tests will be skipped" >&2
    fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest --nbmake tests notebooks "$@"
