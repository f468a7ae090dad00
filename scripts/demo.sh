#!/usr/bin/env bash
# Set everything up and run the whole job on the bundled sample:
#   bash scripts/demo.sh [OUTPUT_DIR]      (default: minemap-demo)
# Creates .venv, installs minemap into it (a plain, non-editable `pip install .`),
# then runs `minemap demo`, which writes map.html, districts.csv and remaining.gpkg.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check .
out=${1:-minemap-demo}
.venv/bin/minemap demo --output-dir "$out" --overwrite
echo "Open $out/map.html in a browser (it works offline)." >&2
