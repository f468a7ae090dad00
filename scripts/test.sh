#!/usr/bin/env bash
# Set everything up and run the checks and tests:
#   bash scripts/test.sh [PYTEST_ARGS...]
# Creates .venv, installs minemap with its test extras, installs Chromium with
# apt-get where it can (for the browser tests), runs ruff, ESLint on the map's
# script (where npm is installed: `npm ci` from package-lock.json, once) and then
# pytest (unit, property, CLI, browser and notebook tests) on every core; the
# tests marked slow only with MINEMAP_SLOW=1 (as CI runs them).
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

# ESLint on minemap/render/static/*.js, installed by `npm ci` (the versions of
# package-lock.json) when node_modules is missing or was installed from another
# lock file; linting fetches nothing. Without npm, or with a Node.js older than
# ESLint needs, it is skipped with a message; MINEMAP_REQUIRE_JSLINT=1 (CI)
# makes that an error.
jslint_skip() {
    if [ "${MINEMAP_REQUIRE_JSLINT:-}" = 1 ]; then
        echo "$1: MINEMAP_REQUIRE_JSLINT=1 requires ESLint on the map's script" >&2
        exit 1
    fi
    echo "$1: skipping ESLint on minemap/render/static/*.js" >&2
}
if ! command -v npm >/dev/null 2>&1; then
    jslint_skip "npm not found (install Node.js and npm to run it)"
elif ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit((a === 20 && b >= 19) || (a === 22 && b >= 13) || a >= 24 ? 0 : 1)'; then
    jslint_skip "Node.js $(node --version) is too old for ESLint 10 (needs 20.19, 22.13 or 24 and later)"
else
    if ! cmp -s package-lock.json node_modules/.minemap-package-lock.json; then
        echo "installing ESLint with npm ci (package-lock.json)..." >&2
        npm ci --no-audit --no-fund --loglevel=error
        cp package-lock.json node_modules/.minemap-package-lock.json
    fi
    node_modules/.bin/eslint --max-warnings=0 .
fi

# pytest on every core (pytest-xdist; MINEMAP_TEST_WORKERS=N to choose, 0 for one
# process). The tests marked `slow` (the longer SIGKILL and Dask matrices, mypy, the
# wheel build...) are left out unless MINEMAP_SLOW=1 (CI); every contract keeps a
# test that runs by default.
selection=(-m "not slow")
if [ "${MINEMAP_SLOW:-}" = 1 ]; then
    selection=()
fi
.venv/bin/python -m pytest -n "${MINEMAP_TEST_WORKERS:-auto}" --nbmake ${selection[@]+"${selection[@]}"} \
    tests notebooks "$@"
