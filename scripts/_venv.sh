# Shared by demo.sh and test.sh: make .venv with a Python >= 3.10 (sourced, not run).
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "minemap needs Python 3.10 or newer: install python3 first" >&2
    exit 1
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
if [ ! -x .venv/bin/python ]; then
    if ! "$PY" -m venv .venv >/dev/null 2>&1; then
        # Debian and Ubuntu ship venv separately.
        rm -rf .venv
        echo "installing python3-venv with apt-get..." >&2
        as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null \
            || { echo "could not create a virtual environment: install python3-venv" >&2; exit 1; }
        "$PY" -m venv .venv
    fi
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
