"""The workspace (minemap.workspace), on both kinds: layout, history, rejects, transactions."""

from __future__ import annotations

import contextlib
import doctest
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minemap as mm
from minemap import datasets
from minemap import io as mio
from minemap import schema as s
from minemap import workspace as store
from minemap.errors import (
    InputFileError,
    MinemapError,
    OutputExistsError,
    WorkspaceBusyError,
    WorkspaceError,
)
from minemap.workspace import imports as import_rules
from minemap.workspace import sqlite as gpkg_backend
from tests.workspaces import dump, is_pg

DATA = Path(__file__).parent / "data"
ITEMS = Path(__file__).parent.parent / "data" / "items.geojson"
V1_FIXTURE = DATA / "workspace_v1.gpkg"
DAY1, DAY8, DAY15 = "2024-03-01T09:00", "2024-03-08T09:00", "2024-03-15T09:00"


def _square(i: int, size: float = 0.001) -> shapely.Polygon:
    x, y = 46.80 + (i % 50) * 0.004, 39.90 + (i // 50) * 0.004
    return shapely.box(x, y, x + size, y + size)


def hazards_file(path: Path, ids, *, ap=None, size=None, extra=None) -> Path:
    """A small hazards GeoJSON: one square per id (the same square for the same number)."""
    numbers = [int(str(i).split("-")[-1]) for i in ids]
    frame = gpd.GeoDataFrame(
        {
            s.HAZARD_ID: list(ids),
            s.MINES_AP: ap if ap is not None else [10] * len(ids),
            s.MINES_AT: [1] * len(ids),
            s.STATUS: ["open"] * len(ids),
        },
        geometry=[
            _square(n, (size or {}).get(i, 0.001)) for n, i in zip(numbers, ids, strict=True)
        ],
        crs=s.CANONICAL_CRS,
    )
    for column, values in (extra or {}).items():
        frame[column] = values
    frame.to_file(path)
    return path


@pytest.fixture
def workspace(new_workspace):
    """A new workspace of each kind: a GeoPackage, and a PostgreSQL database."""
    return store.create_workspace(new_workspace)


@pytest.fixture
def gpkg_workspace(tmp_path) -> Path:
    return store.create_workspace(tmp_path / "ws.gpkg")


def integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0]


def same_ground(a, b) -> bool:
    """The same polygon up to the rounding of a GeoJSON file."""
    return a.symmetric_difference(b).area < 1e-14


def promoted(geoms) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    single = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    out = geoms.copy()
    out[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    return out


# --- the file is a GeoPackage ---------------------------------------------------------


def test_a_new_workspace_is_a_geopackage_gdal_opens(gpkg_workspace):
    workspace = gpkg_workspace
    layers = dict(pyogrio.list_layers(workspace))
    for kind in s.LAYER_KINDS:
        assert kind in layers
        assert f"{kind}_history" in layers
    assert layers["hazards"] == "MultiPolygon"
    assert layers["items"] == "Point"
    assert store.IMPORTS_TABLE in layers
    assert store.REJECTS_TABLE in layers
    info = pyogrio.read_info(workspace, layer="hazards")
    assert info["crs"] == "EPSG:4326"
    assert info["driver"] == "GPKG"
    with contextlib.closing(sqlite3.connect(workspace)) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("PRAGMA user_version").fetchone()[0] == store.GPKG_VERSION
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert integrity(workspace) == "ok"
    assert store.schema_version(workspace) == store.SCHEMA_VERSION
    # Nothing beside the file once it is closed: it can be copied or mailed as it is.
    assert sorted(p.name for p in workspace.parent.iterdir()) == ["ws.gpkg"]


def test_create_replaces_an_empty_workspace_when_told(gpkg_workspace):
    workspace = gpkg_workspace
    with pytest.raises(OutputExistsError, match="--overwrite"):
        store.create_workspace(workspace)
    # A WAL left beside the old file must not be applied to the new one.
    Path(f"{workspace}-wal").write_bytes(b"stale")
    store.create_workspace(workspace, overwrite=True)
    assert not Path(f"{workspace}-wal").exists()
    assert store.read_imports(workspace).empty
    assert integrity(workspace) == "ok"


def test_create_does_not_replace_an_empty_workspace_while_an_import_writes(
    monkeypatch, gpkg_workspace
):
    workspace = gpkg_workspace
    monkeypatch.setattr(gpkg_backend, "BUSY_TIMEOUT_S", 0.05)
    before = workspace.read_bytes()
    with contextlib.closing(sqlite3.connect(workspace, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(WorkspaceBusyError):
            store.create_workspace(workspace, overwrite=True)
        other.execute("ROLLBACK")
    assert workspace.read_bytes() == before


def test_create_never_replaces_a_workspace_that_holds_imports(tmp_path, gpkg_workspace):
    workspace = gpkg_workspace
    store.add_file(workspace, "districts", DATA / "small_districts.geojson")
    before = workspace.read_bytes()
    for overwrite in (False, True):
        with pytest.raises(WorkspaceError, match="another name") as caught:
            store.create_workspace(workspace, overwrite=overwrite)
        assert "holds 1 import" in str(caught.value)
        assert "overwrite" not in str(caught.value)
    assert workspace.read_bytes() == before
    assert len(store.read_imports(workspace)) == 1
    # Nor any other file: a GeoPackage of someone's data, a text file.
    for name, make in (
        ("data.gpkg", lambda p: shutil.copy(DATA / "bad" / "two_layers.gpkg", p)),
        ("notes.gpkg", lambda p: p.write_text("field notes")),
    ):
        other = tmp_path / name
        make(other)
        kept = other.read_bytes()
        with pytest.raises(WorkspaceError, match="another name"):
            store.create_workspace(other, overwrite=True)
        assert other.read_bytes() == kept


def test_create_wants_the_gpkg_extension(tmp_path):
    with pytest.raises(WorkspaceError, match=r"\.gpkg"):
        store.create_workspace(tmp_path / "ws.sqlite")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such workspace"),
        (lambda p: p.write_text("not sqlite at all, just text " * 100), "not a workspace"),
        (lambda p: shutil.copy(DATA / "bad" / "two_layers.gpkg", p), "not a minemap workspace"),
    ],
    ids=["missing", "garbage", "plain-geopackage"],
)
def test_what_is_not_a_workspace_is_one_clear_error(tmp_path, make, message):
    path = tmp_path / "ws.gpkg"
    make(path)
    for call in (
        lambda: store.read_imports(path),
        lambda: store.add_file(path, "districts", DATA / "small_districts.geojson"),
    ):
        with pytest.raises(WorkspaceError, match=message) as caught:
            call()
        assert str(path) in str(caught.value)
        assert isinstance(caught.value, MinemapError)
        assert isinstance(caught.value, OSError)


# --- round trips ----------------------------------------------------------------------


ROUND_TRIPS = {
    "districts": datasets.get_path("districts"),
    "hazards": datasets.get_path("hazards"),
    "releases": datasets.get_path("releases"),
    "items": ITEMS,
}


@pytest.mark.parametrize("kind", list(ROUND_TRIPS))
def test_every_layer_round_trips(new_workspace, kind):
    """What a workspace gives back is what the reader gave: columns, types, values, CRS."""
    workspace = store.create_workspace(new_workspace)
    path = ROUND_TRIPS[kind]
    done = store.add_file(workspace, kind, path)
    expected = mio.load_layers([path], kind).kept
    assert done.read == done.kept == done.new == len(expected)
    got = store.read_workspace(workspace, kind)
    assert got.crs.equals(s.CANONICAL_CRS)
    assert list(got.columns) == list(expected.columns)
    assert got.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns=s.GEOMETRY)),
        pd.DataFrame(expected.drop(columns=s.GEOMETRY)),
    )
    # Coordinates exactly as read; polygons as single-part MultiPolygons.
    assert shapely.equals_exact(
        got.geometry.to_numpy(), promoted(expected.geometry.to_numpy()), tolerance=0
    ).all()
    if is_pg(workspace):
        return
    # GDAL reads the same layer (the current view) and its history.
    gdal = pyogrio.read_dataframe(workspace, layer=kind)
    assert gdal[s.ID_COLUMN[kind]].tolist() == got[s.ID_COLUMN[kind]].tolist()
    assert shapely.equals_exact(gdal.geometry.to_numpy(), got.geometry.to_numpy(), 0).all()
    assert len(pyogrio.read_dataframe(workspace, layer=f"{kind}_history")) == len(got)


def test_the_workspace_is_also_an_input_file(gpkg_workspace):
    """`--hazards W.gpkg` reads the current hazards: the layer named like the kind."""
    workspace = gpkg_workspace
    store.add_file(workspace, "hazards", DATA / "small_hazards.geojson")
    store.add_file(workspace, "releases", DATA / "small_releases.geojson")
    hazards = mm.read_hazards(workspace)
    assert (
        hazards[s.HAZARD_ID].tolist()
        == store.read_workspace(workspace, "hazards")[s.HAZARD_ID].tolist()
    )
    assert len(mm.read_releases(workspace)) == 3


def test_columns_of_any_type_round_trip_and_gdal_reads_them(tmp_path, workspace):
    extra = {
        "depth_m": [1.5, None, 2.25],
        "visits": [1, 2, 3],
        "verified": [True, False, True],
        "surveyed_at": pd.to_datetime(["2024-01-02 10:30", "2024-01-03 11:00", None]),
        "note": ["ünïcode ə", None, "quote \" and ' too"],
    }
    path = hazards_file(tmp_path / "h.geojson", ["H-1", "H-2", "H-3"], extra=extra)
    store.add_file(workspace, "hazards", path)
    expected = mio.load_layers([path], "hazards").kept
    got = store.read_workspace(workspace, "hazards")
    for column in extra:
        pd.testing.assert_series_equal(got[column], expected[column], check_dtype=False)
    assert got["visits"].dtype == np.int64
    assert got["verified"].dtype == bool
    assert got["depth_m"].dtype == np.float64
    if is_pg(workspace):
        return
    gdal = pyogrio.read_dataframe(workspace, layer="hazards")
    assert gdal["note"].tolist()[0] == "ünïcode ə"
    assert gdal["visits"].tolist() == [1, 2, 3]


def test_a_column_whose_type_changes_is_kept_under_another_name(tmp_path, workspace):
    store.add_file(
        workspace, "hazards", hazards_file(tmp_path / "a.geojson", ["H-1"], extra={"lot": [7]})
    )
    done = store.add_file(
        workspace,
        "hazards",
        hazards_file(tmp_path / "b.geojson", ["H-2"], extra={"lot": ["north field"]}),
    )
    assert any("lot_text" in note for note in done.notes)
    got = store.read_workspace(workspace, "hazards").set_index(s.HAZARD_ID)
    assert got.loc["H-1", "lot"] == 7
    assert got.loc["H-2", "lot_text"] == "north field"


def test_a_column_named_like_the_bookkeeping_is_kept_under_another_name(tmp_path, workspace):
    path = hazards_file(tmp_path / "a.geojson", ["H-1"], extra={"import_id": ["theirs"]})
    done = store.add_file(workspace, "hazards", path)
    assert done.notes
    got = store.read_workspace(workspace, "hazards")
    assert got["import_id_1"].tolist() == ["theirs"]


# --- the log and idempotence ----------------------------------------------------------


def test_the_log_records_every_import(tmp_path, workspace):
    store.add_file(workspace, "districts", DATA / "small_districts.geojson", imported_at=DAY1)
    store.add_file(
        workspace, "hazards", DATA / "small_hazards.geojson", source="ANAMA", imported_at=DAY8
    )
    log = store.read_imports(workspace)
    assert tuple(log.columns) == s.IMPORT_COLUMNS + s.REVIEW_COLUMNS
    assert log[s.IMPORT_STATUS].tolist() == ["accepted", "accepted"]  # (a GeoPackage: always)
    assert log[s.IMPORT_ID].tolist() == [1, 2]
    assert log[s.KIND].tolist() == ["districts", "hazards"]
    assert pd.isna(log[s.SOURCE].iloc[0])
    assert log[s.SOURCE].iloc[1] == "ANAMA"
    assert log[s.IMPORTED_AT].tolist() == [
        pd.Timestamp("2024-03-01 09:00", tz="UTC"),
        pd.Timestamp("2024-03-08 09:00", tz="UTC"),
    ]
    assert log[s.SHA256].iloc[1] == store.file_sha256(DATA / "small_hazards.geojson")
    assert log[s.FILE].iloc[1] == str((DATA / "small_hazards.geojson").resolve())
    assert (log[s.READ] == log[s.KEPT] + log[s.REJECTED]).all()
    assert json.loads(log[s.READ_OPTIONS].iloc[1]) == {"crs": None, "layer": None, "mapping": {}}


def test_adding_the_same_file_twice_changes_nothing(tmp_path, workspace):
    first = store.add_file(workspace, "hazards", DATA / "small_hazards.geojson", source="A")
    before = dump(workspace)
    copy = shutil.copy(DATA / "small_hazards.geojson", tmp_path / "renamed.geojson")
    for path in (DATA / "small_hazards.geojson", copy):
        again = store.add_file(workspace, "hazards", path, source="A")
        assert again.already
        assert again.import_id == first.import_id
        assert "already imported on" in again.summary()
        assert f"as import #{first.import_id}" in again.summary()
    assert dump(workspace) == before


def test_the_same_bytes_read_another_way_are_another_import(workspace):
    two = DATA / "bad" / "two_layers.gpkg"
    names = [str(n) for n in pyogrio.list_layers(two)[:, 0]]
    first = store.add_file(workspace, "hazards", two, layer=names[0])
    second = store.add_file(workspace, "hazards", two, layer=names[1])
    assert not second.already
    assert second.import_id == first.import_id + 1


def test_a_shapefile_is_hashed_with_its_attributes(tmp_path):
    frame = gpd.read_file(DATA / "small_hazards.geojson")[[s.HAZARD_ID, s.MINES_AP, s.GEOMETRY]]
    frame.to_file(tmp_path / "h.shp")
    before = store.file_sha256(tmp_path / "h.shp")
    frame[s.MINES_AP] = frame[s.MINES_AP] + 1  # a correction in the .dbf only
    frame.to_file(tmp_path / "h.shp")
    assert store.file_sha256(tmp_path / "h.shp") != before


def test_an_unreadable_file_stores_nothing(tmp_path, workspace):
    before = dump(workspace)
    for bad in (DATA / "bad" / "truncated.geojson", tmp_path / "missing.geojson"):
        with pytest.raises(InputFileError):
            store.add_file(workspace, "hazards", bad)
    assert dump(workspace) == before


def test_the_workspace_is_not_added_to_itself(gpkg_workspace):
    workspace = gpkg_workspace
    with pytest.raises(InputFileError, match="workspace itself"):
        store.add_file(workspace, "hazards", workspace)


def test_imports_are_recorded_in_order(workspace):
    store.add_file(workspace, "districts", DATA / "small_districts.geojson", imported_at=DAY8)
    with pytest.raises(WorkspaceError, match="before the last one"):
        store.add_file(workspace, "hazards", DATA / "small_hazards.geojson", imported_at=DAY1)
    with pytest.raises(WorkspaceError, match="future"):
        store.add_file(
            workspace, "hazards", DATA / "small_hazards.geojson", imported_at="2999-01-01"
        )
    assert len(store.read_imports(workspace)) == 1


# --- rejects --------------------------------------------------------------------------


def test_rejected_features_are_stored_with_their_reasons(tmp_path, workspace):
    path = hazards_file(tmp_path / "h.geojson", ["H-1", "H-2", "H-3"], ap=[10, -5, 3])
    done = store.add_file(workspace, "hazards", path)
    assert (done.read, done.kept, done.rejected) == (3, 2, 1)
    assert done.loaded.summary().startswith("hazards: read 3, kept 2, rejected 1")
    rejects = store.read_rejects(workspace)
    assert len(rejects) == 1
    row = rejects.iloc[0]
    assert row[s.IMPORT_ID] == done.import_id
    assert row[s.LAYER] == "hazards"
    assert row[mio.SOURCE_ROW] == 2
    assert row[s.FEATURE_ID] == "H-2"
    assert "mines_ap" in row[mio.PROBLEM]
    assert row[s.MINES_AP] == -5
    assert row[s.FILE] == str(path.resolve())
    assert same_ground(rejects.geometry.iloc[0], _square(2))
    assert store.read_workspace(workspace, "hazards")[s.HAZARD_ID].tolist() == ["H-1", "H-3"]
    if is_pg(workspace):
        return
    gdal = pyogrio.read_dataframe(workspace, layer=store.REJECTS_TABLE)
    assert gdal[mio.PROBLEM].tolist() == rejects[mio.PROBLEM].tolist()


def test_a_file_with_every_feature_rejected_is_stored_too(workspace):
    path = DATA / "bad" / "no_geometry.csv"
    with pytest.raises(InputFileError):  # unreadable: nothing to keep
        store.add_file(workspace, "hazards", path)
    done = store.add_file(workspace, "hazards", DATA / "small_releases.geojson")
    assert done.kept == 0
    assert done.rejected == done.read == 3
    assert store.read_rejects(workspace)[mio.PROBLEM].str.startswith("no column hazard_id").all()
    # Read the right way (here: as releases), the same bytes go in.
    assert not store.add_file(workspace, "releases", DATA / "small_releases.geojson").already


def test_a_wholly_rejected_import_does_not_count_as_imported(tmp_path, workspace):
    v1 = hazards_file(tmp_path / "v1.geojson", ["H-1", "H-2"], ap=[10, 20])
    store.add_file(workspace, "hazards", v1, source="survey", imported_at=DAY1)
    # The correction, added without its source: every id is another source's record.
    v2 = hazards_file(tmp_path / "v2.geojson", ["H-1", "H-2"], ap=[11, 21])
    refused = store.add_file(workspace, "hazards", v2, imported_at=DAY8)
    assert (refused.read, refused.kept, refused.rejected) == (2, 0, 2)
    assert refused.wholly_rejected
    assert not refused.already
    # It stays in the log, with its rejects...
    log = store.read_imports(workspace)
    assert log[s.IMPORT_ID].tolist() == [1, 2]
    assert store.read_rejects(workspace, import_id=refused.import_id)[s.FEATURE_ID].tolist() == [
        "H-1",
        "H-2",
    ]
    # ...but the same file, added the right way, goes in.
    done = store.add_file(workspace, "hazards", v2, source="survey", imported_at=DAY15)
    assert not done.already
    assert not done.wholly_rejected
    assert (done.import_id, done.superseded, done.rejected) == (3, 2, 0)
    assert store.read_workspace(workspace, "hazards")[s.MINES_AP].tolist() == [11, 21]
    # Once imported, it is imported.
    assert store.add_file(workspace, "hazards", v2, source="survey").already
    # And a file refused twice is logged twice, each time with its rejects.
    for _ in range(2):
        again = store.add_file(workspace, "hazards", DATA / "small_releases.geojson")
        assert again.wholly_rejected
        assert not again.already
    assert len(store.read_imports(workspace)) == 5


def test_bad_features_of_every_kind_are_kept_in_the_rejects(workspace):
    for name in ("bad_counts", "point_hazard", "duplicate_ids", "unclosed_and_repeated"):
        path = DATA / "bad" / f"{name}.geojson"
        done = store.add_file(workspace, "hazards", path)
        assert done.read == done.kept + done.rejected
    rejects = store.read_rejects(workspace)
    log = store.read_imports(workspace)
    assert len(rejects) == log[s.REJECTED].sum() > 0
    assert rejects[mio.PROBLEM].str.len().gt(0).all()


# --- supersession and history ---------------------------------------------------------


def test_a_corrected_map_supersedes_and_the_history_keeps_both(tmp_path, workspace):
    v1 = hazards_file(tmp_path / "v1.geojson", ["H-1", "H-2", "H-3"], ap=[10, 20, 30])
    v2 = hazards_file(
        tmp_path / "v2.geojson",
        ["H-2", "H-3", "H-4"],
        ap=[20, 35, 40],
        size={"H-3": 0.002},  # H-3: more mines and more ground
    )
    first = store.add_file(workspace, "hazards", v1, source="handover", imported_at=DAY1)
    second = store.add_file(workspace, "hazards", v2, source="handover", imported_at=DAY8)
    assert (first.new, first.superseded, first.unchanged) == (3, 0, 0)
    assert (second.new, second.superseded, second.unchanged) == (1, 1, 1)

    now = store.read_workspace(workspace, "hazards")
    # H-1 was not in the corrected map: it stays. Records keep their first order.
    assert now[s.HAZARD_ID].tolist() == ["H-1", "H-2", "H-3", "H-4"]
    assert now[s.MINES_AP].tolist() == [10, 20, 35, 40]
    assert same_ground(now.geometry.iloc[2], _square(3, 0.002))

    history = store.read_history(workspace, "hazards")
    h3 = history[history[s.HAZARD_ID] == "H-3"]
    assert h3[s.MINES_AP].tolist() == [30, 35]
    assert h3[s.IMPORT_ID].tolist() == [first.import_id, second.import_id]
    assert h3[s.SUPERSEDED_BY].tolist()[0] == second.import_id
    assert pd.isna(h3[s.SUPERSEDED_BY].tolist()[1])
    assert h3[s.SUPERSEDED_AT].tolist()[0] == pd.Timestamp("2024-03-08 09:00", tz="UTC")
    assert set(history[s.IMPORT_SOURCE]) == {"handover"}
    assert len(history) == 5  # 3 + H-3's new version + H-4

    # As known on a day: the state at the end of it (UTC).
    for day, ap in [
        ("2024-02-29", []),
        ("2024-03-01", [10, 20, 30]),
        ("2024-03-07", [10, 20, 30]),
        ("2024-03-08", [10, 20, 35, 40]),
        ("2030-01-01", [10, 20, 35, 40]),
    ]:
        assert store.read_workspace(workspace, "hazards", known_on=day)[s.MINES_AP].tolist() == ap
    # A moment: imports made at it or before.
    assert len(store.read_workspace(workspace, "hazards", known_on="2024-03-08T08:59")) == 3
    assert len(store.read_workspace(workspace, "hazards", known_on="2024-03-08T09:00")) == 4
    assert store.read_workspace(workspace, "hazards", known_on="2024-03-07").attrs["import_id"] == (
        first.import_id
    )

    if is_pg(workspace):
        return
    # GDAL sees the current records in the view and every version in the history.
    assert len(pyogrio.read_dataframe(workspace, layer="hazards")) == 4
    assert len(pyogrio.read_dataframe(workspace, layer="hazards_history")) == 5


def test_records_are_known_by_id_and_source(tmp_path, workspace):
    path = hazards_file(tmp_path / "a.geojson", ["H-1", "H-2"], ap=[1, 2])
    store.add_file(workspace, "hazards", path, source="HALO")
    other = hazards_file(tmp_path / "b.geojson", ["H-2", "H-9"], ap=[99, 9])
    done = store.add_file(workspace, "hazards", other, source="NPA")
    # Another source cannot overwrite HALO's H-2: it is rejected, and kept with the reason.
    assert (done.kept, done.rejected, done.new) == (1, 1, 1)
    rejected = store.read_rejects(workspace, import_id=done.import_id)
    assert rejected[s.FEATURE_ID].tolist() == ["H-2"]
    assert rejected[mio.SOURCE_ROW].tolist() == [1]
    assert "duplicate-id" in rejected[mio.PROBLEM].iloc[0]
    assert "--source 'HALO'" in rejected[mio.PROBLEM].iloc[0]
    assert rejected[s.MINES_AP].tolist() == [99]
    now = store.read_workspace(workspace, "hazards").set_index(s.HAZARD_ID)
    assert now[s.MINES_AP].to_dict() == {"H-1": 1, "H-2": 2, "H-9": 9}
    assert done.loaded.summary().startswith("hazards: read 2, kept 1, rejected 1")
    assert [p.rule for p in done.loaded.errors] == ["duplicate-id"]


def test_a_minefield_already_recorded_is_not_taken_again_under_another_id(tmp_path, workspace):
    store.add_file(workspace, "hazards", hazards_file(tmp_path / "a.geojson", ["H-1", "H-2"]))
    # NPA's N-1 is HALO's H-1 again (the same square): its mines would count twice.
    other = hazards_file(tmp_path / "b.geojson", ["N-1", "N-5"])
    done = store.add_file(workspace, "hazards", other, source="NPA")
    assert (done.kept, done.rejected) == (1, 1)
    rejected = store.read_rejects(workspace, import_id=done.import_id)
    assert rejected[s.FEATURE_ID].tolist() == ["N-1"]
    problem = rejected[mio.PROBLEM].iloc[0]
    assert problem.startswith("duplicate-record: overlaps hazard_id H-1 of the workspace")
    assert sorted(store.read_workspace(workspace, "hazards")[s.HAZARD_ID]) == ["H-1", "H-2", "N-5"]
    # A corrected map of the same source replaces its records: not a copy of them.
    fix = hazards_file(tmp_path / "c.geojson", ["H-1", "H-2"], ap=[5, 6])
    corrected = store.add_file(workspace, "hazards", fix)
    assert (corrected.rejected, corrected.superseded) == (0, 2)


def test_checks_use_the_workspace_layers_as_context(tmp_path, workspace):
    """A hazard's district name is checked against the districts already in the workspace."""
    store.add_file(workspace, "districts", DATA / "small_districts.geojson")
    path = hazards_file(tmp_path / "h.geojson", ["H-1"], extra={s.DISTRICT: ["Atlantis"]})
    done = store.add_file(workspace, "hazards", path)
    assert done.rejected == 1
    assert "Atlantis" in store.read_rejects(workspace)[mio.PROBLEM].iloc[0]


# --- transactions, writers and readers ------------------------------------------------


def test_a_second_writer_gets_a_clear_busy_error(monkeypatch, gpkg_workspace):
    workspace = gpkg_workspace
    monkeypatch.setattr(gpkg_backend, "BUSY_TIMEOUT_S", 0.05)
    before = dump(workspace)
    with contextlib.closing(sqlite3.connect(workspace, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another import under way
        with pytest.raises(WorkspaceBusyError) as caught:
            store.add_file(workspace, "districts", DATA / "small_districts.geojson")
        other.execute("ROLLBACK")
    assert str(caught.value) == (
        f"workspace {workspace} is busy: another import is under way; "
        "try again when it has finished"
    )
    assert isinstance(caught.value, OSError)
    assert dump(workspace) == before
    assert integrity(workspace) == "ok"
    assert store.add_file(workspace, "districts", DATA / "small_districts.geojson").kept == 2


def test_readers_read_while_an_import_is_under_way(monkeypatch, tmp_path, workspace):
    """An import paused inside its transaction: readers see the state before it, at once."""
    store.add_file(workspace, "hazards", hazards_file(tmp_path / "a.geojson", ["H-1"]))
    inside, carry_on = threading.Event(), threading.Event()
    write_rejects = import_rules.write_rejects

    def paused(*args, **kwargs):
        write_rejects(*args, **kwargs)
        inside.set()
        carry_on.wait(30)

    monkeypatch.setattr(import_rules, "write_rejects", paused)
    errors = []

    def run():
        try:
            path = hazards_file(tmp_path / "b.geojson", ["H-1", "H-2"], ap=[11, 5])
            store.add_file(workspace, "hazards", path)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=run)
    writer.start()
    try:
        assert inside.wait(30)
        assert store.read_workspace(workspace, "hazards")[s.MINES_AP].tolist() == [10]
        assert len(store.read_imports(workspace)) == 1
        if is_pg(workspace):
            # A second writer waits its turn (no "busy"), then lands after the first.
            second = threading.Thread(
                target=lambda: errors.append(
                    store.add_file(workspace, "districts", DATA / "small_districts.geojson")
                )
            )
            second.start()
            wait_for_lock_waiter(workspace)
            assert second.is_alive()
        else:
            layer = pyogrio.read_dataframe(workspace, layer="hazards")
            assert layer[s.MINES_AP].tolist() == [10]
            monkeypatch.setattr(gpkg_backend, "BUSY_TIMEOUT_S", 0.05)
            with pytest.raises(WorkspaceBusyError):
                store.add_file(workspace, "districts", DATA / "small_districts.geojson")
    finally:
        carry_on.set()
        writer.join(30)
    if is_pg(workspace):
        second.join(60)
        assert [type(e).__name__ for e in errors] == ["Import"]
        assert errors.pop().import_id == 3
    assert not errors
    assert store.read_workspace(workspace, "hazards")[s.MINES_AP].tolist() == [11, 5]


def wait_for_lock_waiter(url: str, count: int = 1) -> None:
    """Wait until ``count`` sessions wait for the import lock (the state, not a time)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        for _ in range(6000):
            waiting = con.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            ).fetchone()[0]
            if waiting >= count:
                return
            time.sleep(0.01)
    raise AssertionError("no import waited for the lock")


def test_a_failing_import_leaves_nothing_behind(monkeypatch, tmp_path, workspace):
    store.add_file(workspace, "hazards", hazards_file(tmp_path / "a.geojson", ["H-1"]))
    before = dump(workspace)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(import_rules, "write_rejects", broken)
    path = hazards_file(tmp_path / "b.geojson", ["H-1", "H-2"], ap=[3, 4], extra={"new": [1, 2]})
    with pytest.raises(OSError, match="No space"):
        store.add_file(workspace, "hazards", path)
    assert dump(workspace) == before  # the new column too was rolled back


# --- schema versions and migrations ---------------------------------------------------


def _copy_v1(tmp_path) -> Path:
    target = tmp_path / "v1.gpkg"
    shutil.copy(V1_FIXTURE, target)
    return target


def test_a_workspace_of_the_first_version_still_reads(tmp_path):
    """tests/data/workspace_v1.gpkg was written by the first workspace schema; never remake it."""
    workspace = _copy_v1(tmp_path)
    log = store.read_imports(workspace)
    assert log[s.KIND].tolist() == ["districts", "hazards", "releases", "hazards"]
    assert log[s.REJECTED].tolist() == [0, 0, 0, 1]
    hazards = store.read_workspace(workspace, "hazards")
    assert hazards[s.HAZARD_ID].tolist() == [
        "AGM-1",
        "AGM-2",
        "X-1",
        "<img src=x onerror=alert(1)>",
        "OUT-1",
        "NEW-1",
    ]
    assert len(store.read_workspace(workspace, "hazards", known_on="2024-01-10")) == 5
    assert len(store.read_history(workspace, "hazards")) == 7
    assert len(store.read_rejects(workspace)) == 1
    assert len(store.read_workspace(workspace, "releases")) == 3
    assert integrity(workspace) == "ok"
    # And it takes new imports.
    done = store.add_file(workspace, "items", ITEMS)
    assert done.import_id == 5


NEXT = store.SCHEMA_VERSION + 1


def _add_note_column(con: sqlite3.Connection) -> None:
    """A synthetic next step: the log gets a note column, filled for the old imports."""
    con.execute(f"ALTER TABLE {store.IMPORTS_TABLE} ADD COLUMN note TEXT")
    con.execute(f"UPDATE {store.IMPORTS_TABLE} SET note = 'from an older version'")


def test_migrating_from_the_first_version(monkeypatch, tmp_path):
    workspace = _copy_v1(tmp_path)
    before = store.read_workspace(workspace, "hazards")  # (brings it to SCHEMA_VERSION)
    assert store.schema_version(workspace) == store.SCHEMA_VERSION
    monkeypatch.setattr(gpkg_backend, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(store.MIGRATIONS, NEXT - 1, _add_note_column)
    # The next write migrates, in the same transaction as the import.
    store.add_file(workspace, "items", ITEMS)
    assert store.schema_version(workspace) == NEXT
    with contextlib.closing(sqlite3.connect(workspace)) as con:
        notes = [r[0] for r in con.execute(f"SELECT note FROM {store.IMPORTS_TABLE}")]
        meta = dict(con.execute(f"SELECT key, value FROM {store.META_TABLE}").fetchall())
    assert notes == ["from an older version"] * 4 + [None]
    assert f"migrated_to_{NEXT}" in meta
    pd.testing.assert_frame_equal(store.read_workspace(workspace, "hazards"), before)
    assert store.migrate(workspace) == (NEXT, NEXT)
    store.verify_workspace(workspace)


def test_every_step_runs_in_one_transaction_from_the_first_version(monkeypatch, tmp_path):
    workspace = _copy_v1(tmp_path)
    monkeypatch.setattr(gpkg_backend, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(store.MIGRATIONS, NEXT - 1, _add_note_column)
    assert store.schema_version(workspace) == 1
    store.add_file(workspace, "items", ITEMS)
    assert store.schema_version(workspace) == NEXT
    with contextlib.closing(sqlite3.connect(workspace)) as con:
        meta = dict(con.execute(f"SELECT key, value FROM {store.META_TABLE}").fetchall())
    assert {f"migrated_to_{n}" for n in range(2, NEXT + 1)} <= set(meta)
    store.verify_workspace(workspace)


def test_readers_migrate_too(monkeypatch, tmp_path):
    workspace = _copy_v1(tmp_path)
    monkeypatch.setattr(gpkg_backend, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(store.MIGRATIONS, NEXT - 1, _add_note_column)
    assert len(store.read_imports(workspace)) == 4
    assert store.schema_version(workspace) == NEXT


def test_a_failing_migration_changes_nothing(monkeypatch, tmp_path):
    workspace = _copy_v1(tmp_path)
    before = dump(workspace)

    def half_done(con):
        _add_note_column(con)
        raise RuntimeError("the migration broke half way")

    monkeypatch.setattr(gpkg_backend, "SCHEMA_VERSION", NEXT)
    monkeypatch.setitem(store.MIGRATIONS, NEXT - 1, half_done)
    with pytest.raises(RuntimeError, match="half way"):
        store.add_file(workspace, "items", ITEMS)
    assert dump(workspace) == before
    assert store.MIGRATIONS[NEXT - 1] is half_done  # (still registered: the next write tries again)


def test_a_missing_migration_step_and_a_newer_workspace_are_clear_errors(monkeypatch, tmp_path):
    workspace = _copy_v1(tmp_path)
    monkeypatch.setattr(gpkg_backend, "SCHEMA_VERSION", NEXT + 1)
    monkeypatch.setitem(store.MIGRATIONS, NEXT - 1, _add_note_column)
    with pytest.raises(WorkspaceError, match=f"no migration from it to {NEXT + 1}"):
        store.migrate(workspace)
    assert store.schema_version(workspace) == 1
    monkeypatch.setattr(gpkg_backend, "SCHEMA_VERSION", NEXT)
    assert store.migrate(workspace) == (1, NEXT)
    monkeypatch.setattr(gpkg_backend, "SCHEMA_VERSION", NEXT - 1)
    with pytest.raises(WorkspaceError, match="newer minemap"):
        store.read_imports(workspace)


# --- the docstrings' examples run -----------------------------------------------------


def test_the_examples_in_the_docstrings_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        attempted = 0
        for module in (store, store.model, store.sqlite):
            result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
            assert result.failed == 0
            attempted += result.attempted
    assert attempted > 10


# --- killed at any moment: the old state or the new one -------------------------------

_IMPORT = """
import sys
from minemap import workspace as store
print("ready", flush=True)
store.add_file(sys.argv[1], "hazards", sys.argv[2], source="survey", imported_at="2024-02-01")
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def sizeable(tmp_path_factory):
    """A workspace holding 10,000 hazards, and a corrected file changing half of them.

    The import of the corrected file writes 5,000 new versions and supersedes
    5,000: a transaction of several megabytes that spills into the WAL before
    it commits. ``old`` and ``new`` are the whole states before and after it.
    """
    folder = tmp_path_factory.mktemp("sizeable")
    n = 10_000
    i = np.arange(n)
    x, y = 46.80 + (i % 100) * 0.002, 39.90 + (i // 100) * 0.002
    v1 = gpd.GeoDataFrame(
        {s.HAZARD_ID: [f"H-{k:05d}" for k in i], s.MINES_AP: i % 50, s.MINES_AT: i % 7},
        geometry=shapely.box(x, y, x + 0.001, y + 0.001),
        crs=s.CANONICAL_CRS,
    )
    v2 = v1.copy()
    v2.loc[v2.index % 2 == 0, s.MINES_AP] += 1
    v1.to_file(folder / "v1.gpkg", layer="hazards")
    v2.to_file(folder / "v2.gpkg", layer="hazards")
    old = store.create_workspace(folder / "old.gpkg")
    store.add_file(old, "hazards", folder / "v1.gpkg", source="survey", imported_at="2024-01-01")
    new = Path(shutil.copy(old, folder / "new.gpkg"))
    done = store.add_file(
        new, "hazards", folder / "v2.gpkg", source="survey", imported_at="2024-02-01"
    )
    assert (done.new, done.superseded, done.unchanged) == (0, n // 2, n // 2)
    return {
        "folder": folder,
        "old": old,
        "v2": folder / "v2.gpkg",
        "before": dump(old),
        "after": dump(new),
    }


def _run_import(sizeable, target: Path, *, kill_after=None, when_writing=None) -> dict:
    """Run the import in a subprocess and SIGKILL it: ``kill_after`` seconds after it is
    ready, or ``when_writing`` seconds after its transaction first reaches the WAL."""
    shutil.copy(sizeable["old"], target)
    child = subprocess.Popen(
        [sys.executable, "-c", _IMPORT, str(target), str(sizeable["v2"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    with child:
        assert child.stdout.readline().strip() == "ready"
        started = time.monotonic()
        if when_writing is not None:
            wal = Path(f"{target}-wal")
            while child.poll() is None and time.monotonic() - started < 60:
                if wal.exists() and wal.stat().st_size > 0:
                    break
                time.sleep(0.001)
            time.sleep(when_writing)
        elif kill_after is not None:
            time.sleep(kill_after)
        if kill_after is not None or when_writing is not None:
            child.send_signal(signal.SIGKILL)
        child.wait(120)
        finished = child.stdout.read().strip() == "done"
    wal = Path(f"{target}-wal")
    return {
        "finished": finished,
        "seconds": time.monotonic() - started,
        "wal": wal.exists() and wal.stat().st_size > 0,
    }


def _check_after_kill(sizeable, target: Path, run: dict, gdal: bool) -> str:
    assert integrity(target) == "ok"
    state = dump(target)
    assert state in (sizeable["before"], sizeable["after"])
    outcome = "new" if state == sizeable["after"] else "old"
    if run["finished"]:
        assert outcome == "new"
    expected = 10_000
    assert len(store.read_workspace(target, "hazards")) == expected
    if gdal:
        assert len(pyogrio.read_dataframe(target, layer="hazards")) == expected
    return outcome


def _kill_many_times(sizeable, tmp_path, kills: int, seed: int) -> list[tuple[str, bool]]:
    random = np.random.default_rng(seed)
    calibration = _run_import(sizeable, tmp_path / "whole.gpkg")
    assert _check_after_kill(sizeable, tmp_path / "whole.gpkg", calibration, gdal=True) == "new"
    span = calibration["seconds"] * 1.3
    outcomes = []
    for k in range(kills):
        target = tmp_path / f"killed-{k}.gpkg"
        if k % 2 == 0:  # anywhere in the run, spread evenly
            run = _run_import(
                sizeable, target, kill_after=(k / kills + random.random() / kills) * span
            )
        else:  # while the transaction is being written
            run = _run_import(sizeable, target, when_writing=random.random() * 0.1)
        outcome = _check_after_kill(sizeable, target, run, gdal=k % 6 == 1)
        outcomes.append((outcome, run["wal"] and outcome == "old"))
        for leftover in tmp_path.glob(f"killed-{k}.gpkg*"):
            leftover.unlink()
    return outcomes


def test_an_import_killed_at_any_moment_leaves_the_old_state_or_the_new(sizeable, tmp_path):
    outcomes = _kill_many_times(sizeable, tmp_path, kills=20, seed=8)
    assert len(outcomes) == 20
    assert ("old", False) in outcomes  # killed before it wrote anything
    assert any(mid_write for _, mid_write in outcomes)  # killed with half a transaction written


@pytest.mark.slow
def test_an_import_killed_many_more_times(sizeable, tmp_path):
    outcomes = _kill_many_times(sizeable, tmp_path, kills=40, seed=1960)
    assert {o for o, _ in outcomes} == {"old", "new"}


# --- two writers in two processes -----------------------------------------------------

_WRITER = """
import sys
from minemap import workspace as store
from minemap.errors import WorkspaceBusyError
store.sqlite.BUSY_TIMEOUT_S = float(sys.argv[4])
print("ready", flush=True)
sys.stdin.readline()
try:
    print("ok", store.add_file(sys.argv[1], sys.argv[2], sys.argv[3]).import_id, flush=True)
except WorkspaceBusyError as exc:
    print("busy", exc, flush=True)
"""


def _race(workspace: Path, jobs, timeout: float) -> list[str]:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(workspace), kind, str(path), str(timeout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind, path in jobs
    ]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    for child in children:  # start together
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        outputs.append(out.strip())
    return outputs


def test_concurrent_writers_one_waits_or_is_told_busy(sizeable, tmp_path):
    jobs = [("hazards", sizeable["v2"]), ("districts", DATA / "small_districts.geojson")]
    # Writers that do not wait: whoever comes second is told the workspace is busy.
    workspace = Path(shutil.copy(sizeable["old"], tmp_path / "race.gpkg"))
    outputs = _race(workspace, jobs, timeout=0.0)
    oks = [o for o in outputs if o.startswith("ok")]
    busy = [o for o in outputs if o.startswith("busy")]
    assert len(oks) >= 1
    assert len(oks) + len(busy) == 2
    for line in busy:
        assert line == (
            f"busy workspace {workspace} is busy: another import is under way; "
            "try again when it has finished"
        )
    assert integrity(workspace) == "ok"
    assert len(store.read_imports(workspace)) == 1 + len(oks)
    # Writers that wait: both imports go in, one after the other.
    workspace = Path(shutil.copy(sizeable["old"], tmp_path / "queue.gpkg"))
    outputs = _race(workspace, jobs, timeout=60.0)
    assert sorted(o.split()[0] for o in outputs) == ["ok", "ok"]
    assert sorted(int(o.split()[1]) for o in outputs) == [2, 3]
    assert integrity(workspace) == "ok"
    assert len(store.read_workspace(workspace, "districts")) == 2


# --- any sequence of imports ----------------------------------------------------------

_records = st.dictionaries(
    keys=st.integers(1, 6),
    values=st.tuples(st.integers(-1, 3), st.sampled_from([0.001, 0.002])),
    min_size=1,
    max_size=5,
)
_imports = st.lists(st.tuples(st.sampled_from(["A", "B", ""]), _records), min_size=1, max_size=4)


_EXAMPLES = iter(range(10**6))


@pytest.mark.parametrize("backend", ["gpkg", "postgis"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(imports=_imports)
def test_any_sequence_of_imports_keeps_the_last_version_of_each_record(request, backend, imports):
    """Current = the last accepted version of each record; read = kept + rejected; known-on
    after import i = the state after import i; a file seen before changes nothing."""
    with tempfile.TemporaryDirectory() as folder:
        location = Path(folder) / "ws.gpkg"
        if backend == "postgis":
            location = request.getfixturevalue("pg_server").database(f"seq{next(_EXAMPLES)}")
        workspace = store.create_workspace(location)
        model: dict[str, tuple[str, int, float]] = {}
        states, seen, versions = [], set(), 0
        for number, (source, records) in enumerate(imports):
            ids = [f"H-{k}" for k in records]
            (Path(folder) / str(number)).mkdir()
            path = hazards_file(  # one name: the same records make the same bytes
                Path(folder) / str(number) / "hazards.geojson",
                ids,
                ap=[ap for ap, _ in records.values()],
                size={f"H-{k}": size for k, (_, size) in records.items()},
            )
            moment = pd.Timestamp("2024-01-01") + pd.Timedelta(days=number)
            done = store.add_file(workspace, "hazards", path, source=source, imported_at=moment)
            assert done.read == done.kept + done.rejected == len(records)
            assert done.kept == done.new + done.superseded + done.unchanged
            content = tuple(sorted(records.items()))
            assert done.already == (content in seen)
            if not done.already:
                if done.kept or not done.rejected:  # a wholly rejected file is not imported
                    seen.add(content)
                rejected = 0
                for hid, (ap, size) in zip(ids, records.values(), strict=True):
                    held = model.get(hid)
                    if ap < 0 or (held is not None and held[0] != source):
                        rejected += 1
                    elif held != (source, ap, size):
                        model[hid] = (source, ap, size)
                        versions += 1
                assert done.rejected == rejected
            states.append(dict(model))

        def as_read(frame):
            return {
                h: (ap, round(float(np.sqrt(g.area)), 4))
                for h, ap, g in zip(
                    frame[s.HAZARD_ID], frame[s.MINES_AP], frame.geometry, strict=True
                )
            }

        def as_model(state):
            return {h: (ap, size) for h, (_, ap, size) in state.items()}

        assert as_read(store.read_workspace(workspace, "hazards")) == as_model(model)
        for number, state in enumerate(states):
            day = f"{pd.Timestamp('2024-01-01') + pd.Timedelta(days=number):%Y-%m-%d}"
            known = store.read_workspace(workspace, "hazards", known_on=day)
            assert as_read(known) == as_model(state)
        assert len(store.read_history(workspace, "hazards")) == versions
        log = store.read_imports(workspace)
        assert len(store.read_rejects(workspace)) == log[s.REJECTED].sum()


def test_the_old_module_name_still_works_and_warns():
    """``minemap.store`` (0.1) re-exports the workspace's names, with a DeprecationWarning."""
    import importlib
    import sys as system

    system.modules.pop("minemap.store", None)
    with pytest.warns(DeprecationWarning, match="minemap.workspace"):
        old = importlib.import_module("minemap.store")
    for name in old.__all__:
        assert getattr(old, name) is getattr(store, name)
    assert old.add_file is store.add_file


def test_rejected_geometry_is_stored_valid_with_the_geometry_as_read(tmp_path, workspace):
    path = hazards_file(tmp_path / "h.geojson", ["H-1", "H-2"], ap=[10, -5])
    frame = gpd.read_file(path)
    x0, y0, x1, y1 = frame.geometry.iloc[1].bounds
    bow_tie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    frame.loc[1, "geometry"] = bow_tie  # rejected for its count, its geometry as read
    frame.to_file(path)
    store.add_file(workspace, "hazards", path)
    if not is_pg(workspace):  # what GDAL reads of the rejects layer is valid
        gdal = pyogrio.read_dataframe(workspace, layer=store.REJECTS_TABLE)
        assert shapely.is_valid(gdal.geometry.to_numpy()).all()
    rejects = store.read_rejects(workspace)
    assert len(rejects) == 1
    assert shapely.is_valid(rejects.geometry.to_numpy()).all()
    as_read = rejects[s.GEOMETRY_AS_READ].iloc[0]
    assert shapely.normalize(shapely.from_wkt(as_read)).equals_exact(
        shapely.normalize(bow_tie), 1e-9
    )


def test_a_sources_profile_is_stored_found_and_reused(tmp_path, workspace):
    """The profile of an import is kept whole in the log; the next import from the same
    source reuses it (and says which); another source's import does not."""
    from minemap import profile

    anama = profile.parse_profile('date_order = "DMY"\nunknown = ["naməlum"]', name="anama.toml")
    first = hazards_file(tmp_path / "w1.geojson", ["H-1", "H-2"])
    store.add_file(workspace, "hazards", first, source="ANAMA", profile=anama, max_segment_m=8000)
    assert store.source_profile(workspace, "ANAMA")[1] == 1
    assert store.source_profile(workspace, "HALO") is None
    assert store.source_profile(workspace, " ") is None
    second = hazards_file(tmp_path / "w2.geojson", ["H-1", "H-2"], ap=[12, 10])
    done = store.add_file(workspace, "hazards", second, source="ANAMA", reuse_profile=True)
    found, import_id = done.reused_profile
    assert (found.name, found.text, import_id) == ("anama.toml", anama.text, 1)
    assert done.superseded == 1
    other = store.add_file(
        workspace,
        "hazards",
        hazards_file(tmp_path / "h.geojson", ["K-9"]),
        source="HALO",
        reuse_profile=True,
    )
    assert other.reused_profile is None
    options = [json.loads(o) for o in store.read_imports(workspace)[s.READ_OPTIONS]]
    assert [o.get("profile", {}).get("name") for o in options] == ["anama.toml"] * 2 + [None]
    assert options[0]["profile"]["text"] == anama.text
    assert options[0]["max_segment_m"] == 8000
    assert "max_segment_m" not in options[1]  # the default is left out
    again = store.add_file(workspace, "hazards", second, source="ANAMA", reuse_profile=True)
    assert again.already
    assert again.reused_profile[1] == 2  # the last import from the source that had one
