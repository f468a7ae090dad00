"""`minemap record` (CliRunner)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner

import minemap as mm
from minemap import records
from minemap import schema as s
from minemap.cli import main

JSON = str(records.EXAMPLE_JSON)
CSV = str(records.EXAMPLE_CSV)


@pytest.fixture
def runner():
    return CliRunner()


def square_record(tmp_path, short_by=0.0):
    data = {
        "record_id": "SQ-1",
        "north": "true",
        "mines": [{"type": "PMN-2", "category": "AP", "count": 10}],
        "points": [
            {"id": "A", "lat": 39.95, "lon": 46.85},
            {"id": "B", "bearing": 0, "distance_m": 100},
            {"id": "C", "bearing": 90, "distance_m": 100},
            {"id": "D", "bearing": 180, "distance_m": 100},
            {"id": "E", "bearing": 270, "distance_m": 100 - short_by, "closes": True},
        ],
    }
    path = tmp_path / "square.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_gpkg_has_three_layers(runner, tmp_path):
    out = tmp_path / "mf.gpkg"
    result = runner.invoke(main, ["record", JSON, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "record AGD-MF-0417: 12 points, 2 row(s), perimeter 11.18" in result.stderr
    assert "misclosure 0.050 m, 120 AP / 36 AT mines" in result.stderr
    layers = dict(pyogrio.list_layers(out))
    assert layers == {"perimeter": "Polygon", "rows": "LineString", "points": "Point"}
    hazards = mm.read_hazards(out, layer="perimeter")
    assert list(hazards[s.HAZARD_ID]) == ["AGD-MF-0417"]
    assert list(hazards[s.MINES_AP]) == [120]
    rows = gpd.read_file(out, layer="rows")
    assert list(rows[s.ROW_ID]) == ["R1", "R2"]
    points = gpd.read_file(out, layer="points")
    assert len(points) == 12


def test_csv_record_to_geojson_is_the_perimeter(runner, tmp_path):
    out = tmp_path / "mf.geojson"
    result = runner.invoke(main, ["record", CSV, "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = gpd.read_file(out)
    assert len(frame) == 1
    assert frame.geom_type.iloc[0] == "Polygon"
    assert frame[s.LAID_ON].iloc[0] == "1994-03-12" or str(frame[s.LAID_ON].iloc[0])[:10] == (
        "1994-03-12"
    )
    assert mm.read_hazards(out)[s.HAZARD_ID].tolist() == ["AGD-MF-0417"]


def test_stdout_carries_geojson_without_output(runner):
    result = runner.invoke(main, ["record", JSON])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["type"] == "FeatureCollection"
    assert data["features"][0]["properties"][s.HAZARD_ID] == "AGD-MF-0417"
    assert "record AGD-MF-0417" in result.stderr


def test_refuses_to_overwrite(runner, tmp_path):
    out = tmp_path / "mf.gpkg"
    out.write_text("keep me")
    result = runner.invoke(main, ["record", JSON, "-o", str(out)])
    assert result.exit_code == 1
    assert "exists; pass --overwrite" in result.stderr
    assert out.read_text() == "keep me"
    result = runner.invoke(main, ["record", JSON, "-o", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert len(pyogrio.list_layers(out)) == 3


def test_misclosure_options(runner, tmp_path):
    record = square_record(tmp_path, short_by=3.0)
    result = runner.invoke(main, ["record", record, "-o", str(tmp_path / "a.gpkg")])
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr
    assert "misses the first point A by 3.00 m" in result.stderr
    assert "misclosure 3.00" in result.stderr
    result = runner.invoke(
        main, ["record", record, "-o", str(tmp_path / "b.gpkg"), "--max-misclosure", "2"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {record}: record SQ-1: the closing point E misses")
    assert "Traceback" not in result.output
    assert not (tmp_path / "b.gpkg").exists()
    result = runner.invoke(
        main, ["record", record, "-o", str(tmp_path / "c.gpkg"), "--warn-misclosure", "5"]
    )
    assert result.exit_code == 0
    assert "WARNING" not in result.stderr


def test_square_summary_area(runner, tmp_path):
    result = runner.invoke(main, ["record", square_record(tmp_path), "-o", str(tmp_path / "q.fgb")])
    assert result.exit_code == 0, result.output
    assert "perimeter 1.00" in result.stderr
    assert "misclosure 0.00" in result.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["points"][2].update(frompoint="Z"),
            "point C (points[2]): unknown frompoint 'Z'",
        ),
        (
            lambda d: d.update(north="magnetic"),
            "bearing is magnetic but the record has no declination_deg",
        ),
        (lambda d: d["points"][1].update(bearing=400), "bearing 400 is out of range"),
    ],
)
def test_bad_record_is_one_error_line(runner, tmp_path, edit, message):
    path = tmp_path / "bad.json"
    data = json.loads(Path(square_record(tmp_path)).read_text())
    edit(data)
    path.write_text(json.dumps(data))
    result = runner.invoke(main, ["record", str(path), "-o", str(tmp_path / "x.gpkg")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {path}: ")
    assert message in lines[0]


def test_unreadable_and_usage(runner, tmp_path):
    result = runner.invoke(main, ["record", str(tmp_path / "nope.json")])
    assert result.exit_code == 1
    assert "nope.json: no such file" in result.stderr
    copy = tmp_path / "record.xml"
    shutil.copy(JSON, copy)
    result = runner.invoke(main, ["record", str(copy)])
    assert result.exit_code == 1
    assert "unknown record format '.xml'" in result.stderr
    # An output name minemap does not write is refused before any work: a usage error.
    result = runner.invoke(main, ["record", JSON, "-o", str(tmp_path / "out.xyz")])
    assert result.exit_code == 2
    assert "'.xyz' is not a format minemap writes" in result.stderr
    assert not (tmp_path / "out.xyz").exists()
    result = runner.invoke(main, ["record", JSON, "--max-misclosure", "-1"])
    assert result.exit_code == 2
    result = runner.invoke(main, ["record", "--help"])
    assert result.exit_code == 0
    assert "perimeter" in result.stdout
