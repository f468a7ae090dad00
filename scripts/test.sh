#!/usr/bin/env bash
# Set everything up and run the checks and tests:
#   bash scripts/test.sh [PYTEST_ARGS...]
# Creates .venv, installs minemap with its test extras, installs Chromium with
# apt-get where it can (for the browser tests), runs ruff, ESLint on the map's
# script (where npm is installed: `npm ci` from package-lock.json, once) and then
# pytest (unit, property, CLI, browser and notebook tests).
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

# ESLint on minemap/render/static/*.js. Installed by `npm ci` (the versions of
# package-lock.json) only when node_modules is missing or older than the lock
# file; running it fetches nothing. MINEMAP_REQUIRE_JSLINT=1 (CI) makes a
# missing npm an error instead of a skip.
if command -v npm >/dev/null 2>&1; then
    if ! cmp -s package-lock.json node_modules/.minemap-package-lock.json; then
        echo "installing ESLint with npm ci (package-lock.json)..." >&2
        npm ci --no-audit --no-fund --loglevel=error
        cp package-lock.json node_modules/.minemap-package-lock.json
    fi
    node_modules/.bin/eslint --max-warnings=0 .
elif [ "${MINEMAP_REQUIRE_JSLINT:-}" = 1 ]; then
    echo "npm not found: MINEMAP_REQUIRE_JSLINT=1 requires ESLint on the map's script; install Node.js and npm" >&2
    exit 1
else
    echo "npm not found: skipping ESLint on minemap/render/static/*.js (install Node.js and npm to run it)" >&2
fi
.venv/bin/python -m pytest --nbmake tests notebooks "$@"
