"""A mine count that is not known stays not known: never 0, in every figure and every output."""

from __future__ import annotations

import datetime as dt
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import minemap as mm
from minemap import schema as s
from minemap.cli import main
from minemap.validate import WARNING, check_layer
from tests.common import box, districts, hazards, releases
from tests.test_render import _data_of

REL = 1e-7


def _scene():
    """H1 (10 AP) in West, H2 (AP not known, 5 AT) and H3 (both not known) in East."""
    hz = hazards(box(0, 0, 1000, 100), box(2000, 0, 3000, 100), box(3000, 0, 4000, 100))
    hz[s.MINES_AP] = pd.array([10, None, None], dtype="Int64")
    hz[s.MINES_AT] = pd.array([0, 5, None], dtype="Int64")
    ds = districts(["West", "East"], [box(-10, -10, 1500, 1000), box(1500, -10, 5000, 1000)])
    rel = releases(box(0, 0, 500, 100), box(2000, 0, 2500, 100))
    return hz, rel, ds


def test_unknown_tokens_and_empty_counts_are_not_known_with_a_warning():
    frame = gpd.GeoDataFrame(
        {
            "hazard_id": ["A", "B", "C", "D"],
            "mines_ap": ["12", "?", "", "naməlum"],
            "mines_at": ["0", "неизвестно", "3", "x"],
        },
        geometry=[shapely.box(46.9 + i * 0.02, 39.98, 46.91 + i * 0.02, 39.99) for i in range(4)],
        crs="EPSG:4326",
    )
    cleaned, problems, rejected = check_layer(frame, "hazards", unknown=["x"])
    assert not rejected.any()
    assert cleaned[s.MINES_AP].tolist()[0] == 12
    assert cleaned[s.MINES_AP].isna().tolist() == [False, True, True, True]
    assert cleaned[s.MINES_AT].isna().tolist() == [False, True, False, True]
    unknown = [(p.feature, p.rule) for p in problems if p.rule == "unknown-count"]
    assert len(unknown) == 5
    assert all(p.severity == WARNING for p in problems)
    assert "not known" in problems[0].message


def test_remaining_and_by_district_keep_unknown_as_na():
    hz, rel, ds = _scene()
    rem = mm.remaining(hz, rel, ds)
    by_id = rem.set_index(s.HAZARD_ID)
    assert by_id.loc["H1", s.REMAINING_MINES_EST] == pytest.approx(5, rel=REL)
    assert pd.isna(by_id.loc["H2", s.MINES])
    assert pd.isna(by_id.loc["H2", s.REMAINING_MINES_EST])
    assert by_id.loc["H2", s.MINES_AT] == pytest.approx(5)  # the known part stays
    assert pd.isna(by_id.loc["H3", s.MINES_AT])
    table = mm.by_district(rem, districts=ds).set_index(s.DISTRICT)
    # West: known; East: every record's total not known -> NA, not 0.
    assert table.loc["West", s.MAPPED_MINES] == pytest.approx(10)
    assert pd.isna(table.loc["East", s.MAPPED_MINES])
    assert pd.isna(table.loc["East", s.REMAINING_MINES_EST])
    assert table.loc["East", s.MAPPED_MINES_AT] == pytest.approx(5)
    assert table.loc["East", s.HAZARDS_UNKNOWN_MINES] == 2
    assert table.loc["West", s.HAZARDS_UNKNOWN_MINES] == 0
    assert table.loc[s.UNASSIGNED, s.MAPPED_MINES] == 0  # no record there: 0
    assert table.attrs["records"] == 3
    assert table.attrs["records_unknown_mines"] == 2
    # Sums over districts skip what is not known.
    assert table[s.MAPPED_MINES].sum() == pytest.approx(10)


def test_a_district_mixing_known_and_unknown_sums_the_known():
    hz = hazards(box(0, 0, 100, 100), box(200, 0, 300, 100), ap=[7, None], at=[1, 2])
    hz[s.MINES_AP] = pd.array([7, None], dtype="Int64")
    table = mm.by_district(hz, releases())
    row = table.set_index(s.DISTRICT).loc[s.UNASSIGNED]
    assert row[s.MAPPED_MINES] == pytest.approx(8)
    assert row[s.HAZARDS_UNKNOWN_MINES] == 1


def test_the_cli_table_says_not_known_and_of_how_many_records(tmp_path):
    hz, rel, ds = _scene()
    paths = {}
    for name, frame in (("hazards", hz), ("releases", rel), ("districts", ds)):
        paths[name] = tmp_path / f"{name}.gpkg"
        mm.write_layer(frame.to_crs(s.CANONICAL_CRS), paths[name])
    out = tmp_path / "table.csv"
    result = CliRunner().invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(paths["hazards"]),
            "--releases",
            str(paths["releases"]),
            "--districts",
            str(paths["districts"]),
            "--by-district",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    east = next(line for line in result.stdout.splitlines() if line.startswith("East"))
    assert "not known" in east
    assert "of 1 records with known counts" in result.stdout
    assert "2 record(s) whose mine count is not known" in result.stdout
    assert "unknown-count" in result.stderr  # the warning, one line
    written = pd.read_csv(out)
    east_row = written.set_index(s.DISTRICT).loc["East"]
    assert pd.isna(east_row[s.MAPPED_MINES])  # empty in the file, not 0
    assert east_row[s.HAZARDS_UNKNOWN_MINES] == 2


def test_workspace_keeps_a_count_not_known(tmp_path, new_workspace):
    """On both kinds of workspace: a GeoPackage, and a PostgreSQL database."""
    from minemap import workspace as store

    hz, _, _ = _scene()
    path = tmp_path / "hazards.gpkg"
    mm.write_layer(hz.to_crs(s.CANONICAL_CRS), path)
    workspace = store.create_workspace(new_workspace)
    done = store.add_file(workspace, "hazards", path)
    assert done.kept == 3
    got = store.read_workspace(workspace, "hazards").set_index(s.HAZARD_ID)
    assert got[s.MINES_AP].isna().tolist() == [False, True, True]
    assert got.loc["H1", s.MINES_AP] == 10
    assert got[s.MINES_AT].isna().tolist() == [False, False, True]


def test_density_leaves_unknown_ground_out_not_zero():
    from minemap import density

    hz, rel, ds = _scene()
    grid = density.density(hz, rel, ds, cell_size_m=50)
    assert grid.total_mines_est == pytest.approx(5, rel=1e-6)
    assert grid.unknown_records == 2
    assert float(grid.mines.sum()) == pytest.approx(5, rel=1e-5)
    # H3's ground holds no estimate: nodata there, not 0; H1's remaining ground has mines.
    import pyproj

    from tests.common import LAEA

    to_grid = pyproj.Transformer.from_crs(LAEA, grid.crs, always_xy=True)

    def cell(x, y):
        gx, gy = to_grid.transform(x, y)
        col, row = ~grid.transform @ (gx, gy)
        return grid.bands[0][int(row), int(col)]

    assert cell(3500, 50) == density.NODATA
    assert cell(750, 50) > 0


def test_priorities_rank_an_unknown_record_on_its_other_parts():
    from minemap.priorities import part_column, priorities

    hz, rel, ds = _scene()
    ranked = priorities(hz, rel, ds).set_index(s.HAZARD_ID)
    assert pd.isna(ranked.loc["H3", s.REMAINING_MINES_EST])
    assert np.isnan(ranked.loc["H3", s.MINES_PER_HA_EST])
    assert np.isnan(ranked.loc["H3", part_column("density")])
    # Scored on area alone (the only other part with data): between 0 and 1.
    assert 0 < ranked.loc["H3", s.SCORE] <= 1
    assert ranked.loc["H1", part_column("density")] > 0


def test_accuracy_found_vs_recorded_is_not_known_for_an_unknown_count():
    from minemap.accuracy import accuracy, rollup

    hz, _rel, _ds = _scene()
    hz = hz.to_crs(s.CANONICAL_CRS)
    centres = shapely.centroid(hz.geometry.to_numpy())
    items = gpd.GeoDataFrame(
        {
            s.ITEM_ID: ["I1", "I2", "I3"],
            s.FOUND_ON: pd.to_datetime(["2022-01-03"] * 3),
            s.ITEM_TYPE: ["AP", "AP", "AT"],
        },
        geometry=list(centres),
        crs=s.CANONICAL_CRS,
    )
    table = accuracy(hz, items=items).set_index(s.HAZARD_ID)
    assert table.loc["H1", s.FOUND_VS_RECORDED_AP] == pytest.approx(0.1)
    assert np.isnan(table.loc["H2", s.FOUND_VS_RECORDED_AP])  # its AP count is not known
    assert table.loc["H3", s.DEVICES_INSIDE_AT] == 1
    assert np.isnan(table.loc["H3", s.FOUND_VS_RECORDED_AT])
    rolled = rollup(table.reset_index(), by="district")
    # Only H1 (10 AP, 1 inside) counts: the device in H2 and H3's are left out.
    assert rolled[s.FOUND_VS_RECORDED_AP].iloc[0] == pytest.approx(0.1)


def test_progress_and_forecast_run_with_unknown_counts():
    from minemap.forecast import forecast
    from minemap.progress import progress

    hz, rel, ds = _scene()
    table = progress(hz, rel, ds, as_of="2022-03-01")
    outlook = forecast(table)
    assert len(table)
    assert len(outlook)
    last = table[(table[s.METHOD] == s.ALL) & (table[s.PERIOD] == table[s.PERIOD].max())]
    assert last.set_index(s.DISTRICT).loc["East", s.REMAINING_HA] == pytest.approx(15, rel=1e-6)


def test_the_map_says_not_known():
    from minemap.render import render_map

    hz, rel, ds = _scene()
    rem = mm.remaining(hz, rel, ds)
    page = render_map(rem, mm.by_district(rem, districts=ds), districts=ds).get_root().render()
    rows = {
        f["properties"]["t"]["h"]: dict(f["properties"]["t"]["r"])
        for f in _data_of(page, "minemap-hazard")["features"]
    }
    assert rows["Hazard H3"]["Mines recorded AP / AT"] == "not known"
    assert rows["Hazard H2"]["Mines recorded AP / AT"] == "not known / 5"
    assert rows["Hazard H3"]["Remaining mines (est.)"].startswith("not known")
    assert rows["Hazard H1"]["Remaining mines (est.)"] == "5"
    districts_ = {
        f["properties"]["t"]["h"]: dict(f["properties"]["t"]["r"])
        for f in _data_of(page, "minemap-district")["features"]
    }
    assert districts_["East"]["Mines recorded"] == "not known"
    assert districts_["East"]["Records with mine count not known"] == "2"
    title = json.loads(re.search(r"minemap\.title\(\w+, (\{.*?\})\);", page).group(1))
    assert "2 record(s) not known" in json.dumps(title)


def test_the_report_says_of_how_many_records():
    from minemap.report import build_report

    hz, rel, ds = _scene()
    table = mm.by_district(hz, rel, ds)
    page = build_report(table, title="T")
    assert "of 1 records with known counts; 2 not known" in page
    assert "not known" in page.split('<table class="districts">', 1)[1]


def test_validate_cli_reads_a_question_mark(tmp_path):
    path = tmp_path / "hazards.csv"
    path.write_text(
        "hazard_id,mines_ap,mines_at,wkt\n"
        'A,?,0,"POLYGON((46.9 39.98,46.91 39.98,46.91 39.99,46.9 39.99,46.9 39.98))"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", str(path), "--crs", "EPSG:4326"])
    assert result.exit_code == 0, result.output
    assert "unknown-count" in result.stdout
    assert dt.date.today()  # no future-date noise
