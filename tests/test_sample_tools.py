"""The generators in tools/sample/ remake the bundled sample in data/ byte for byte."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TOOLS = ROOT / "tools" / "sample"


def _run(script: str, *args: Path | str) -> None:
    subprocess.run(
        [sys.executable, str(TOOLS / script), *map(str, args)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


def _same(made: Path, names: list[str]) -> None:
    for name in names:
        assert (made / name).read_bytes() == (DATA / name).read_bytes(), name


def test_data_holds_data_only():
    # The wheel carries data/ as minemap/_sample: no script may ride along.
    scripts = [p for p in DATA.rglob("*") if p.suffix in {".py", ".pyc", ".sh", ".ipynb"}]
    assert scripts == []
    assert sorted(p.name for p in TOOLS.glob("make_*.py")) == [
        "make_context.py",
        "make_items.py",
        "make_record.py",
        "make_sample.py",
    ]


def test_wheel_carries_the_sample_without_scripts(tmp_path):
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), *offline, "--wheel-dir", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("minemap-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    sample = {n.removeprefix("minemap/_sample/") for n in names if n.startswith("minemap/_sample/")}
    assert {"hazards.geojson", "releases.geojson", "districts.geojson", "ATTRIBUTION.md"} <= sample
    assert "records/example_record.json" in sample
    assert [n for n in sample if not n.endswith((".geojson", ".md", ".json", ".csv"))] == []
    assert [n for n in names if n.startswith("tools/") or "make_" in n] == []


def test_items_context_and_record_are_remade_from_the_sample(tmp_path):
    _run("make_items.py", "--data", DATA, "--out", tmp_path / "items.geojson")
    _run("make_context.py", "--data", DATA, "--out", tmp_path)
    _run("make_record.py", "--out", tmp_path / "records")
    _same(tmp_path, ["items.geojson", "settlements.geojson", "roads.geojson"])
    _same(tmp_path, ["records/example_record.json", "records/example_record.csv"])


@pytest.mark.slow
def test_whole_sample_is_remade_from_the_districts_alone(tmp_path):
    (tmp_path / "districts.geojson").write_bytes((DATA / "districts.geojson").read_bytes())
    _run("make_sample.py", "--source", tmp_path / "districts.geojson", "--out", tmp_path)
    _run("make_items.py", "--data", tmp_path, "--out", tmp_path / "items.geojson")
    _run("make_context.py", "--data", tmp_path, "--out", tmp_path)
    _same(
        tmp_path,
        [
            "districts.geojson",
            "hazards.geojson",
            "releases.geojson",
            "items.geojson",
            "settlements.geojson",
            "roads.geojson",
        ],
    )


def test_sample_script_refuses_a_missing_district_file(tmp_path):
    done = subprocess.run(
        [sys.executable, str(TOOLS / "make_sample.py"), "--source", str(tmp_path / "none.geojson")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert "no district file" in done.stderr
    assert list(tmp_path.iterdir()) == []
