"""`minemap progress` (CliRunner)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from minemap import schema as s
from minemap.cli import main
from tests.common import box, districts, hazards, releases

REPORTS = Path(__file__).parent / "data" / "anama_reports.csv"
CHARTS = [f"{n}.{e}" for n in ("burndown", "released", "items") for e in ("svg", "png")]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def files(tmp_path):
    """Hazards, releases and districts as GeoJSON (a 10 ha hazard in each of two districts)."""
    hz = hazards(box(0, 0, 1000, 100), box(2000, 0, 3000, 100), ap=[10, 20])
    rel = releases(
        box(0, 0, 100, 100),
        box(50, 0, 250, 100),
        box(2000, 0, 2200, 100),
        dates=["2022-01-03", "2022-01-09", "2022-01-10"],
        methods=["cleared", "cleared", "reduced"],
    )
    rel[s.ITEMS_AP] = [1, 2, 0]
    rel[s.ITEMS_AT] = [0, 1, 3]
    rel[s.ITEMS_UXO] = [4, 0, 0]
    ds = districts(["Aghdam", "Fuzuli"], [box(-100, -100, 1500, 200), box(1500, -100, 4000, 200)])
    paths = {}
    for name, frame in (("hazards", hz), ("releases", rel), ("districts", ds)):
        paths[name] = tmp_path / f"{name}.geojson"
        frame.to_crs(s.CANONICAL_CRS).to_file(paths[name], driver="GeoJSON")
    return paths


def _args(files, out, *extra):
    return [
        "progress",
        "--releases",
        str(files["releases"]),
        "--hazards",
        str(files["hazards"]),
        "--districts",
        str(files["districts"]),
        "-o",
        str(out),
        *extra,
    ]


def test_writes_tables_and_charts(runner, files, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(main, _args(files, out, "--as-of", "2022-01-16"))
    assert result.exit_code == 0, result.output
    for name in ["progress.csv", "forecast.csv", *CHARTS]:
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "progress.csv")
    assert tuple(table.columns) == s.PROGRESS_COLUMNS
    total = table[(table[s.DISTRICT] == s.ALL) & (table[s.METHOD] == s.ALL)]
    assert total[s.PERIOD].tolist() == ["2022-01-03", "2022-01-10"]
    assert total[s.RELEASED_HA].tolist() == pytest.approx([2.5, 2.0], rel=1e-6)
    assert total[s.REMAINING_HA].tolist() == pytest.approx([17.5, 15.5], rel=1e-6)
    forecast = pd.read_csv(out / "forecast.csv", keep_default_na=False)
    assert tuple(forecast.columns[:6]) == s.FORECAST_COLUMNS
    for column in (s.COMPLETION_EARLIEST, s.COMPLETION_CENTRAL, s.COMPLETION_LATEST):
        assert forecast[column].str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all(), column
    assert forecast[s.DISTRICT].tolist()[-2:] == [s.ALL, "all (pooled rate)"]
    total = forecast.set_index(s.DISTRICT).loc[s.ALL]
    parts = forecast[~forecast[s.DISTRICT].isin([s.ALL, "all (pooled rate)"])]
    assert total[s.COMPLETION_LATEST] == max(parts[s.COMPLETION_LATEST])
    # The forecast table on stdout, one line per district.
    assert "earliest" in result.stdout
    assert "Aghdam" in result.stdout
    assert "Fuzuli" in result.stdout
    assert (out / "burndown.svg").read_text().lstrip().startswith("<?xml")
    assert (out / "burndown.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_as_of_before_every_release(runner, files, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(main, _args(files, out, "--as-of", "2021-06-01"))
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(out / "forecast.csv", keep_default_na=False).set_index(s.DISTRICT)
    assert forecast.loc["Aghdam", s.REMAINING_HA] == pytest.approx(10.0, rel=1e-6)
    # No estimate is an empty date with the reason beside it, never text in a date column.
    assert forecast.loc["Aghdam", s.COMPLETION_CENTRAL] == ""
    assert forecast.loc["Aghdam", "note"].startswith("no estimate")
    assert (out / "released.png").exists()


def test_refuses_to_overwrite(runner, files, tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(main, _args(files, out)).exit_code == 0
    again = runner.invoke(main, _args(files, out))
    assert again.exit_code == 1
    assert "exists" in again.output
    assert runner.invoke(main, _args(files, out, "--overwrite")).exit_code == 0


def test_reports_compared(runner, files, tmp_path):
    out = tmp_path / "out"
    reports = tmp_path / "reports.csv"
    shutil.copy(REPORTS, reports)
    result = runner.invoke(main, _args(files, out, "--reports", str(reports)))
    assert result.exit_code == 0, result.output
    comparison = pd.read_csv(out / "comparison.csv", keep_default_na=False)
    assert {s.BULLETIN_AREA_HA, s.RELEASED_HA, s.DIFFERENCE_HA} <= set(comparison.columns)
    assert {s.BULLETIN_DISTRICTS, s.POLYGON_DISTRICTS, s.NOTE} <= set(comparison.columns)
    # The polygons run 3-9 January 2022: the 2022 total is not compared with them (empty,
    # not 0 ha and -41,915 ha), and the note says why.
    year = comparison[comparison[s.PERIOD_START] == "2022-01-01"].iloc[0]
    assert year[s.RELEASED_HA] == ""
    assert year[s.DIFFERENCE_HA] == ""
    assert "no polygons for this period" in year[s.NOTE] or "only part" in year[s.NOTE]
    assert comparison[s.NOTE].str.contains("no polygons for this period").sum() >= 10
    # "453,900", with no convention given, is read by its neighbours, and stderr says so.
    assert "'453,900'" in result.stderr
    assert "neighbouring bulletins" in result.stderr
    progress = pd.read_csv(out / "progress.csv")
    assert s.BULLETIN_AREA_HA in progress.columns


def test_releases_only_monthly(runner, files, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        main,
        ["progress", "--releases", str(files["releases"]), "--period", "month", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "progress.csv")
    assert set(table[s.DISTRICT]) == {s.ALL}
    assert table[s.PERIOD].unique().tolist() == ["2022-01-01"]
    assert "no estimate" in result.stdout


def test_items_layer(runner, files, tmp_path):
    items = gpd.GeoDataFrame(
        {
            s.ITEM_ID: ["I1", "I2"],
            s.FOUND_ON: ["2022-01-04", "2022-01-11"],
            s.ITEM_TYPE: ["AP", "AT"],
        },
        geometry=gpd.points_from_xy([10, 2100], [10, 50]),
        crs=hazards(box(0, 0, 1, 1)).crs,
    ).to_crs(s.CANONICAL_CRS)
    path = tmp_path / "items.geojson"
    items.to_file(path, driver="GeoJSON")
    out = tmp_path / "out"
    result = runner.invoke(main, _args(files, out, "--items", str(path)))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "progress.csv")
    total = table[(table[s.DISTRICT] == s.ALL) & (table[s.METHOD] == s.ALL)]
    assert total[s.ITEMS_AP].sum() == 1
    assert total[s.ITEMS_AT].sum() == 1


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("", "empty"), ("period_start,uxo\n2022-01-03,1\n", "no area column")],
)
def test_bad_reports_one_line_error(runner, files, tmp_path, content, fragment):
    reports = tmp_path / "bad.csv"
    reports.write_text(content)
    out = tmp_path / "out"
    result = runner.invoke(main, _args(files, out, "--reports", str(reports)))
    assert result.exit_code == 1
    assert fragment in result.stderr
    assert "bad.csv" in result.stderr
    assert "Traceback" not in result.output
    assert not (out / "progress.csv").exists()


def test_missing_releases_file(runner, tmp_path):
    result = runner.invoke(
        main, ["progress", "--releases", str(tmp_path / "none.geojson"), "-o", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "none.geojson" in result.stderr
    assert "Traceback" not in result.output


def test_bad_period_is_usage_error(runner, files, tmp_path):
    result = runner.invoke(main, _args(files, tmp_path / "out", "--period", "day"))
    assert result.exit_code == 2
