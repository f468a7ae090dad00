"""`minemap priorities` (CliRunner)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from minemap import schema as s
from minemap.cli import main
from minemap.priorities import PARTS, contribution_column

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
SETTLEMENTS = str(ROOT / "data" / "settlements.geojson")
ROADS = str(ROOT / "data" / "roads.geojson")


@pytest.fixture
def runner():
    return CliRunner()


def _args(tmp_path, *extra):
    return [
        "priorities", "--hazards", HAZARDS, "--releases", RELEASES,
        "--settlements", SETTLEMENTS, "--roads", ROADS, "-o", str(tmp_path / "p.csv"), *extra,
    ]  # fmt: skip


def test_priorities_ranks_and_explains(runner, tmp_path):
    result = runner.invoke(main, _args(tmp_path, "--weight", "density=0.6"))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "p.csv")
    assert table[s.RANK].tolist() == list(range(1, len(table) + 1))
    assert table[s.SCORE].is_monotonic_decreasing
    parts = sum(table[contribution_column(p)].fillna(0) for p in PARTS)
    # Each figure is written to 0.001 (test_priorities checks the exact sum).
    assert (parts - table[s.SCORE]).abs().max() <= 0.0005 * (len(PARTS) + 1) + 1e-12
    assert table[s.DIST_SETTLEMENT_M].notna().all()
    assert "density=0.6" in result.stderr
    assert "rank" in result.stdout


def test_weights_change_the_order(runner, tmp_path):
    weights = [w for p in PARTS for w in ("--weight", f"{p}={int(p == 'area')}")]
    assert runner.invoke(main, _args(tmp_path, *weights)).exit_code == 0
    by_area = pd.read_csv(tmp_path / "p.csv")
    assert (by_area[s.SCORE] - by_area["part_area"]).abs().max() < 1e-6
    assert by_area[s.REMAINING_AREA_HA].iloc[-1] == by_area[s.REMAINING_AREA_HA].min()


@pytest.mark.parametrize("bad", ["density", "beauty=1", "density=-1", "density=x"])
def test_bad_weight_is_a_usage_error(runner, tmp_path, bad):
    result = runner.invoke(main, _args(tmp_path, "--weight", bad))
    assert result.exit_code == 2
    assert "--weight" in result.output


def test_weights_that_leave_nothing_to_score_by_are_a_usage_error(runner, tmp_path):
    zero = [f"--weight={part}=0" for part in ("density", "settlements", "roads", "area")]
    result = runner.invoke(main, _args(tmp_path, *zero))
    assert result.exit_code == 2
    assert "--weight" in result.output
    assert "add up to 0" in result.output
    assert "Traceback" not in result.output


def test_unreadable_context_layer_is_one_clear_error(runner, tmp_path):
    bad = tmp_path / "roads.geojson"
    bad.write_text("")
    args = _args(tmp_path)
    args[args.index(ROADS)] = str(bad)
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert "roads.geojson" in result.stderr
    assert "Traceback" not in result.output


def test_a_settlement_without_a_geometry_is_named_not_dropped(runner, tmp_path):
    import json

    collection = json.loads(Path(SETTLEMENTS).read_text(encoding="utf-8"))
    collection["features"][2]["geometry"] = None
    bad = tmp_path / "settlements.geojson"
    bad.write_text(json.dumps(collection), encoding="utf-8")
    args = _args(tmp_path)
    args[args.index(SETTLEMENTS)] = str(bad)
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert "settlements.geojson" in result.stderr
    assert "1 settlements feature(s) have no geometry" in result.stderr
    assert "feature 3" in result.stderr
    assert not (tmp_path / "p.csv").exists()


def test_context_layers_are_accounted_for(runner, tmp_path):
    result = runner.invoke(main, _args(tmp_path))
    assert result.exit_code == 0, result.output
    count = len(pd.read_json(SETTLEMENTS)["features"])
    assert f"settlements: read {count}, kept {count}, rejected 0" in result.stderr
