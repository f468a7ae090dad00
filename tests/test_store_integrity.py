"""Damaged workspaces: truncated files, flipped bytes, damaged geometries, a full disk.

Every read of a damaged workspace either gives exactly the figures of the
undamaged one or fails with one clear line that calls it damaged and says how
to recover; a write never goes into a damaged file and leaves it as it was.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from minemap import contamination
from minemap import schema as s
from minemap import workspace as store
from minemap.cli import main
from minemap.errors import WorkspaceError
from minemap.workspace import integrity
from minemap.workspace.model import REJECTS_TABLE

DATA = Path(__file__).parent / "data"
HAZARDS = DATA / "small_hazards.geojson"
RELEASES = DATA / "small_releases.geojson"
DISTRICTS = DATA / "small_districts.geojson"
KNOWN_ON = "2024-01-10"


def _damaged_error():
    from minemap import errors

    return getattr(errors, "WorkspaceDamagedError", WorkspaceError)


# --- a workspace with a little of everything ------------------------------------------


def _files(folder: Path) -> dict[str, Path]:
    """Two weeks of releases, a corrected map, items with a bad feature: real-shaped names."""
    releases = gpd.read_file(RELEASES)
    releases[s.RELEASED_ON] = ["2024-01-03", "2024-01-05", "2024-01-11"]
    releases[s.ORGANISATION] = ["ANAMA Ağdam qrupu", "Команда 2", "Team 3"]
    releases.iloc[:2].to_file(folder / "releases_w1.geojson")
    releases.iloc[2:].to_file(folder / "releases_w2.geojson")
    hazards = gpd.read_file(HAZARDS)
    corrected = hazards.copy()
    at = corrected[s.HAZARD_ID] == "AGM-2"
    corrected.loc[at, s.MINES_AP] += 60
    grown = shapely.buffer(corrected.loc[at, s.GEOMETRY].to_numpy(), 0.002, join_style="mitre")
    corrected.loc[at, s.GEOMETRY] = grown
    extra = gpd.GeoDataFrame(
        {
            s.HAZARD_ID: ["AGM-3"],
            s.MINES_AP: [7],
            s.MINES_AT: [2],
            s.SOURCE: ["Xəritə Ağdam; карта"],
        },
        geometry=[shapely.box(46.90, 40.00, 46.91, 40.01)],
        crs=s.CANONICAL_CRS,
    )
    pd.concat([corrected, extra], ignore_index=True).to_file(folder / "hazards_corrected.geojson")
    hz = gpd.read_file(HAZARDS)
    points = [g.representative_point() for g in hz.geometry]
    items = gpd.GeoDataFrame(
        {
            s.ITEM_ID: [f"İ-{i}" for i in range(len(points))] + ["İ-bad"],
            s.FOUND_ON: ["2024-01-04"] * len(points) + ["2099-01-01"],  # a date in the future
            s.ITEM_TYPE: ["AP"] * len(points) + ["AT"],
        },
        geometry=[*points, shapely.Point(46.9, 39.96)],
        crs=s.CANONICAL_CRS,
    )
    items.to_file(folder / "items.geojson")
    return {
        "w1": folder / "releases_w1.geojson",
        "w2": folder / "releases_w2.geojson",
        "corrected": folder / "hazards_corrected.geojson",
        "items": folder / "items.geojson",
    }


def build(path: Path, files: dict[str, Path]) -> Path:
    store.create_workspace(path)
    store.add_file(path, "districts", DISTRICTS, imported_at="2024-01-01")
    store.add_file(path, "hazards", HAZARDS, source="handover", imported_at="2024-01-01T10:00")
    store.add_file(path, "releases", files["w1"], source="ANAMA", imported_at="2024-01-08T09:00")
    store.add_file(path, "releases", files["w2"], source="ANAMA", imported_at="2024-01-15T09:00")
    store.add_file(
        path, "hazards", files["corrected"], source="handover", imported_at="2024-01-22T09:00"
    )
    done = store.add_file(path, "items", files["items"], imported_at="2024-01-23T09:00")
    assert done.rejected == 1
    return path


def figures(path: Path, *, remaining: bool = True) -> dict[str, pd.DataFrame]:
    """Everything minemap reads from a workspace, and the remaining figures from it (a
    function of the layers read: where those are the same, so are they)."""
    layers = store.read_workspace_layers(path)
    then = store.read_workspace_layers(path, known_on=KNOWN_ON)
    out = {f"now:{k}": v for k, v in layers.items()}
    out.update({f"then:{k}": v for k, v in then.items()})
    for kind in s.LAYER_KINDS:
        out[f"history:{kind}"] = store.read_history(path, kind)
    out["imports"] = store.read_imports(path)
    out["rejects"] = store.read_rejects(path)
    if not remaining:
        return out
    rem = contamination.remaining(layers["hazards"], layers["releases"], layers["districts"])
    out["remaining"] = pd.DataFrame(rem.drop(columns=rem.geometry.name))
    out["remaining:ground"] = pd.DataFrame({"wkb": shapely.to_wkb(rem.geometry.to_numpy())})
    out["by_district"] = contamination.by_district(rem, districts=layers["districts"])
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with its geometries as WKB, for exact comparison."""
    frame = pd.DataFrame(frame).copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, gpd.array.GeometryDtype):
            frame[column] = shapely.to_wkb(frame[column].to_numpy())
    return frame


def same_figures(got: dict, expected: dict) -> list[str]:
    """The names of the frames that differ (none: exactly the same figures)."""
    differ = []
    for name, frame in got.items():
        try:
            pd.testing.assert_frame_equal(_plain(frame), _plain(expected[name]), check_exact=True)
        except AssertionError:
            differ.append(name)
    return differ


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("original")
    path = build(folder / "aghdam.gpkg", _files(folder))
    with contextlib.closing(sqlite3.connect(path)) as con:
        blobs = {
            (table, fid): bytes(blob)
            for table in [store.history_table(k) for k in s.LAYER_KINDS]
            for fid, blob in con.execute(f'SELECT fid, geom FROM "{table}"')
        }
    return {"path": path, "bytes": path.read_bytes(), "figures": figures(path), "blobs": blobs}


def assert_called_damaged(exc: BaseException, path: Path) -> None:
    message = str(exc)
    assert isinstance(exc, _damaged_error()), f"{type(exc).__name__}: {message}"
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert "is damaged" in message
    assert "last good copy" in message
    assert "minemap init" not in message  # never invite its destruction


def read_or_damaged(path: Path, expected: dict, *, remaining: bool = False) -> str:
    """``same`` when every read gives exactly the original figures, ``damaged`` when the
    workspace is called damaged; anything else (a traceback, other figures) fails."""
    try:
        got = figures(path, remaining=remaining)
    except WorkspaceError as exc:
        assert_called_damaged(exc, path)
        return "damaged"
    assert same_figures(got, expected) == [], "silently different figures"
    return "same"


def add_is_refused(path: Path, files_folder: Path) -> None:
    """``add`` into a damaged workspace refuses and leaves the file exactly as it was."""
    before = path.read_bytes()
    with pytest.raises(WorkspaceError) as caught:
        store.add_file(path, "hazards", HAZARDS, source="another", imported_at="2024-02-01")
    assert_called_damaged(caught.value, path)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def _clean(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


# --- truncated ------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [0, 16, 99, 100, 1024, 4096, 0.25, 0.5, 0.75, -4096, -100, -1])
def test_a_truncated_workspace_is_called_damaged_never_not_a_workspace(original, tmp_path, cut):
    data = original["bytes"]
    size = cut if isinstance(cut, int) and cut >= 0 else len(data) + cut
    if isinstance(cut, float):
        size = int(len(data) * cut)
    path = tmp_path / "cut.gpkg"
    path.write_bytes(data[:size])
    outcome = read_or_damaged(path, original["figures"], remaining=True)
    if size < len(data) - 4096:  # whole pages of records are gone
        assert outcome == "damaged"
    if outcome == "damaged":
        add_is_refused(path, tmp_path)
        try:  # the log may still be whole (it is what a rebuild needs)
            store.read_imports(path)
        except WorkspaceError as exc:
            assert_called_damaged(exc, path)


# --- flipped bytes ----------------------------------------------------------------------


def _flip(data: bytes, offset: int, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[offset] ^= 1 << bit
    return bytes(damaged)


def _flip_all(data: bytes, needle: bytes, offset: int, bit: int) -> bytes:
    """Flip one bit at ``offset`` in every copy of ``needle`` (a record's bytes may also lie
    in pages SQLite no longer uses)."""
    damaged = bytearray(data)
    at = data.find(needle)
    assert at >= 0
    while at >= 0:
        damaged[at + offset] ^= 1 << bit
        at = data.find(needle, at + 1)
    return bytes(damaged)


def _record_damages(original) -> list[tuple[bytes, int]]:
    """(bytes of a record, offset in them): inside every stored geometry, in the middle of
    its coordinates, and inside a few text values of the layers and the log."""
    texts = ("2024-01-03", "Команда 2", "Xəritə Ağdam", "2024-01-08T09:00:00")
    return [
        *((blob, 8 + 32 + (len(blob) - 40) // 2) for blob in original["blobs"].values()),
        *((text.encode(), 3) for text in texts),
    ]


def test_a_flipped_byte_in_a_release_never_changes_the_released_area_silently(original, tmp_path):
    path = tmp_path / "flipped.gpkg"
    with contextlib.closing(sqlite3.connect(original["path"])) as con:
        (blob,) = con.execute(
            'SELECT geom FROM "releases_history" WHERE release_id = ?', ("R-1",)
        ).fetchone()
    # The first longitude: past the GeoPackage header (8 bytes), the envelope (32), the
    # MultiPolygon's and the Polygon's WKB headers (9 each) and the ring's length (4). Bit 3
    # of its fifth byte moves the corner by about 20 m.
    path.write_bytes(_flip_all(original["bytes"], bytes(blob), 8 + 32 + 9 + 9 + 4 + 4, 3))
    with pytest.raises(WorkspaceError) as caught:
        store.read_workspace(path, "releases")
    assert_called_damaged(caught.value, path)
    message = str(caught.value)
    assert "releases" in message
    assert "R-1" in message
    add_is_refused(path, tmp_path)


def test_a_flipped_byte_anywhere_is_read_exactly_or_called_damaged(original, tmp_path):
    data = original["bytes"]
    rng = np.random.default_rng(17)
    path = tmp_path / "flipped.gpkg"
    for needle, offset in _record_damages(original):
        _clean(path)
        path.write_bytes(_flip_all(data, needle, offset, int(rng.integers(8))))
        assert read_or_damaged(path, original["figures"]) == "damaged", needle[:20]
    add_is_refused(path, tmp_path)
    outcomes = collections.Counter()
    for number, offset in enumerate([*range(0, 100, 7), *rng.integers(0, len(data), 50)]):
        _clean(path)
        bit = int(rng.integers(8))
        path.write_bytes(_flip(data, int(offset), bit))
        try:
            outcome = read_or_damaged(path, original["figures"])
        except Exception as exc:
            raise AssertionError(f"bit {bit} of byte {offset} flipped") from exc
        outcomes[outcome] += 1
        if outcome == "damaged" and number % 4 == 0:
            add_is_refused(path, tmp_path)
    assert outcomes["damaged"] > 0
    assert outcomes["same"] > 0  # bytes no read depends on (free space) change nothing


@pytest.mark.slow
def test_a_flipped_byte_at_every_kind_of_place_many_more_times(original, tmp_path):
    data = original["bytes"]
    rng = np.random.default_rng(1994)
    path = tmp_path / "flipped.gpkg"
    for offset in rng.integers(0, len(data), 1500).tolist():
        _clean(path)
        bit = int(rng.integers(8))
        path.write_bytes(_flip(data, offset, bit))
        try:
            read_or_damaged(path, original["figures"])
        except Exception as exc:
            raise AssertionError(f"bit {bit} of byte {offset} flipped") from exc


def test_a_changed_value_is_named_with_its_record(original, tmp_path):
    path = tmp_path / "changed.gpkg"
    shutil.copy(original["path"], path)
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute(
            'UPDATE "hazards_history" SET mines_ap = mines_ap + 1 '
            "WHERE hazard_id = 'AGM-1' AND superseded_by IS NULL"
        )
        con.commit()
    with pytest.raises(WorkspaceError) as caught:
        store.read_workspace(path, "hazards")
    assert_called_damaged(caught.value, path)
    assert "AGM-1" in str(caught.value)
    assert "hazards" in str(caught.value)
    # The log does not depend on the damaged records: it still lists the files to re-add.
    assert len(store.read_imports(path)) == 6


# --- damaged geometries -----------------------------------------------------------------


def _damage_blob(blob: bytes, how: str) -> bytes:
    if how == "magic":
        return b"XP" + blob[2:]
    if how == "version":
        return blob[:2] + b"\x07" + blob[3:]
    if how == "envelope-code":
        return blob[:3] + bytes([blob[3] | 0b1110]) + blob[4:]
    if how == "srs":
        return blob[:4] + struct.pack("<i", 3857) + blob[8:]
    if how == "cut":
        return blob[: len(blob) // 2]
    if how == "wkb":
        return blob[:40] + b"\x01\xff\xff\xff\x7f" + blob[45:]
    if how == "type":
        point = shapely.to_wkb(shapely.Point(46.86, 39.955), flavor="iso")
        return blob[:8] + struct.pack("<4d", 46.86, 46.86, 39.955, 39.955) + point
    if how == "envelope":
        return blob[:8] + struct.pack("<d", 10.0) + blob[16:]
    raise ValueError(how)


DAMAGES = ["magic", "version", "envelope-code", "srs", "cut", "wkb", "type", "envelope"]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_geometry_is_a_clear_error_naming_the_record(original, tmp_path, how):
    path = tmp_path / "blob.gpkg"
    shutil.copy(original["path"], path)
    with contextlib.closing(sqlite3.connect(path)) as con:
        (fid, blob) = con.execute(
            'SELECT fid, geom FROM "hazards_history" WHERE hazard_id = ? AND superseded_by IS NULL',
            ("X-1",),
        ).fetchone()
        con.execute(
            'UPDATE "hazards_history" SET geom = ? WHERE fid = ?',
            (_damage_blob(bytes(blob), how), fid),
        )
        con.commit()
    for read in (
        lambda: store.read_workspace(path, "hazards"),
        lambda: store.read_history(path, "hazards"),
    ):
        with pytest.raises(WorkspaceError) as caught:
            read()
        assert_called_damaged(caught.value, path)
        assert "X-1" in str(caught.value)
    result = CliRunner().invoke(main, ["remaining", "--workspace", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert [line for line in result.stderr.splitlines() if line.startswith("Error")] == [
        f"Error: {caught.value}"
    ]


@pytest.mark.parametrize("how", DAMAGES)
def test_geometries_are_checked_even_where_the_checksums_agree(original, tmp_path, how):
    """A geometry minemap would never write (a bug, another program) is refused on read."""
    path = tmp_path / "blob.gpkg"
    shutil.copy(original["path"], path)
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        (fid, blob) = con.execute(
            'SELECT fid, geom FROM "hazards_history" WHERE hazard_id = ?', ("X-1",)
        ).fetchone()
        con.execute("BEGIN")
        con.execute(
            'UPDATE "hazards_history" SET geom = ? WHERE fid = ?',
            (_damage_blob(bytes(blob), how), fid),
        )
        integrity.seal_rows(con, "hazards_history")
        integrity.seal(con)
        con.execute("COMMIT")
    with pytest.raises(WorkspaceError) as caught:
        store.read_workspace(path, "hazards")
    assert_called_damaged(caught.value, path)
    message = str(caught.value)
    assert "X-1" in message
    assert "geometry" in message


def _nested_wkb(depth: int) -> bytes:
    """A GeometryCollection ``depth`` levels deep around one point (little-endian WKB)."""
    blob = b"\x01" + struct.pack("<Idd", 1, 46.85, 39.95)
    for _ in range(depth - 1):
        blob = b"\x01" + struct.pack("<II", 7, 1) + blob
    return blob


def _minemap_process(*args) -> subprocess.CompletedProcess:
    """``minemap ARGS`` in its own process (a crash is its exit status, not ours)."""
    return subprocess.run(
        [sys.executable, "-c", "from minemap.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONFAULTHANDLER": "0"},
    )


@pytest.mark.parametrize("where", ["history", "inside-a-multipolygon", "rejects"])
def test_a_geometry_nested_too_deep_is_damage_never_a_crash(original, tmp_path, where):
    """A workspace from elsewhere may hold a geometry nested 50,000 levels deep behind
    checksums that agree (they are no secret): GEOS, whose WKB reader recurses, never
    sees it; the workspace is called damaged, naming the record, as the file readers
    reject such a geometry (minemap._screen)."""
    path = tmp_path / "deep.gpkg"
    shutil.copy(original["path"], path)
    table = REJECTS_TABLE if where == "rejects" else "hazards_history"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
        fid, blob = con.execute(f'SELECT fid, geom FROM "{table}" ORDER BY fid LIMIT 1').fetchone()
        header = bytes(blob)[:8]  # the geometry's own header, without its envelope
        header = header[:3] + bytes([header[3] & 0b1_0001]) + header[4:]
        deep = _nested_wkb(50_000)
        if where == "inside-a-multipolygon":
            square = shapely.to_wkb(shapely.box(46.8, 39.9, 46.81, 39.91), flavor="iso")
            deep = b"\x01" + struct.pack("<II", 6, 2) + square + deep
        con.execute("BEGIN")
        con.execute(f'UPDATE "{table}" SET geom = ? WHERE fid = ?', (header + deep, fid))
        integrity.seal_rows(con, table)
        integrity.seal(con)
        con.execute("COMMIT")
    if where == "rejects":
        result = _minemap_process("log", path, "--rejects")
    else:
        result = _minemap_process("remaining", "--workspace", path, "-o", tmp_path / "r.gpkg")
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.stderr[-2000:]
    assert f"{path}: is damaged" in errors[0]
    assert "nests more than 32 levels deep" in errors[0]
    assert f"row {fid} of {table}" in errors[0]
    assert not (tmp_path / "r.gpkg").exists()


# --- the file around the records --------------------------------------------------------


def test_what_is_outside_the_records_is_checked_too(original, tmp_path):
    """The schema, the bookkeeping and the metadata: changed, the workspace is damaged."""
    changes = {
        "schema": "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = "
        "replace(sql, 'mines_ap', 'mines_aq') WHERE name = 'hazards_history'",
        "version": "UPDATE minemap_meta SET value = '9' WHERE key = 'schema_version'",
        "superseded": "UPDATE hazards_history SET superseded_by = NULL",
        "deleted": "DELETE FROM releases_history WHERE release_id = 'R-3'",
        "log": "UPDATE minemap_imports SET imported_at = '2024-01-09T09:00:00.000000Z' "
        "WHERE import_id = 3",
        "rejects": "UPDATE minemap_rejects SET problem = 'fine'",
        "application_id": "PRAGMA application_id = 0",
    }
    for name, sql in changes.items():
        path = tmp_path / f"{name}.gpkg"
        shutil.copy(original["path"], path)
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as con:
            con.executescript(sql)
        assert read_or_damaged(path, original["figures"]) == "damaged", name


def test_a_file_that_is_not_a_workspace_is_not_called_damaged(tmp_path):
    text = tmp_path / "notes.gpkg"
    text.write_text("not sqlite at all, just text " * 100)
    with pytest.raises(WorkspaceError, match="not a workspace") as caught:
        store.read_imports(text)
    assert not isinstance(caught.value, _damaged_error())
    plain = tmp_path / "plain.gpkg"
    shutil.copy(DATA / "bad" / "two_layers.gpkg", plain)
    with pytest.raises(WorkspaceError, match="not a minemap workspace") as caught:
        store.read_imports(plain)
    assert not isinstance(caught.value, _damaged_error())


def test_verify_workspace_checks_everything(original, tmp_path):
    store.verify_workspace(original["path"])
    path = tmp_path / "changed.gpkg"
    shutil.copy(original["path"], path)
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("UPDATE minemap_rejects SET feature_id = 'x'")
        con.commit()
    with pytest.raises(WorkspaceError) as caught:
        store.verify_workspace(path)
    assert_called_damaged(caught.value, path)


# --- the command line -------------------------------------------------------------------


def _invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def test_the_commands_on_a_damaged_workspace_say_so_in_one_line(original, tmp_path):
    path = tmp_path / "cut.gpkg"
    path.write_bytes(original["bytes"][: len(original["bytes"]) // 2])
    before = path.read_bytes()
    for args in (
        ["log", path],
        ["log", path, "--rejects"],
        ["log", path, "--check"],
        ["add", "hazards", path, HAZARDS],
        ["remaining", "--workspace", path],
        ["progress", "--workspace", path, "-o", tmp_path / "out"],
        ["init", path],
        ["init", path, "--overwrite"],
    ):
        result = _invoke(*args)
        assert result.exit_code == 1, args
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert len(errors) == 1, args
        assert "is damaged" in errors[0], args
        assert "last good copy" in errors[0], args
        assert path.read_bytes() == before, args
    assert not (tmp_path / "out").exists()


def test_log_check_says_a_good_workspace_is_good(original):
    result = _invoke("log", original["path"], "--check")
    assert result.exit_code == 0
    assert "checked" in result.stderr


def test_flipped_bytes_through_the_command_line(original, tmp_path):
    data = original["bytes"]
    rng = np.random.default_rng(5)
    path = tmp_path / "flipped.gpkg"
    clean = _invoke("remaining", "--workspace", original["path"])
    log = _invoke("log", original["path"]).stdout
    flips = [_flip_all(data, needle, at, 2) for needle, at in _record_damages(original)[:4]]
    flips += [_flip(data, int(at), int(rng.integers(8))) for at in rng.integers(0, len(data), 20)]
    for damaged in flips:
        _clean(path)
        path.write_bytes(damaged)
        for args, expected in (
            (["remaining", "--workspace", path], clean.stdout),
            (["log", path], log),
        ):
            result = _invoke(*args)
            if result.exit_code == 0:
                assert result.stdout == expected
            else:
                assert result.exit_code == 1
                errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
                assert len(errors) == 1
                assert "is damaged" in errors[0]


# --- a full disk ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs mounted for the test (needs root, as in CI; skipped otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the full-disk tests needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path, leave: int = 0) -> Path:
    """Fill a disk but ``leave`` bytes (about) with one file."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        block = b"\0" * 4096
        with contextlib.suppress(OSError):
            while True:
                handle.write(block)
    if leave:
        with filler.open("r+b") as handle:
            handle.truncate(max(0, filler.stat().st_size - leave))
    return filler


def test_init_on_a_full_disk_is_one_line_with_the_path(small_disk):
    _fill(small_disk, leave=8192)
    path = small_disk / "ws.gpkg"
    result = _invoke("init", path)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    assert str(path) in errors[0]
    assert not path.exists()
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_add_on_a_full_disk_changes_nothing_and_says_so(small_disk):
    path = small_disk / "ws.gpkg"
    assert _invoke("init", path).exit_code == 0
    assert _invoke("add", "districts", path, DISTRICTS).exit_code == 0
    with contextlib.closing(sqlite3.connect(path)) as con:
        before = con.execute("SELECT * FROM minemap_imports").fetchall()
    filler = _fill(small_disk)
    result = _invoke("add", "hazards", path, HAZARDS, "--source", "handover")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    assert str(path) in errors[0]
    assert "the disk is full" in errors[0]
    filler.unlink()
    with contextlib.closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT * FROM minemap_imports").fetchall() == before
    store.verify_workspace(path)
    assert _invoke("add", "hazards", path, HAZARDS, "--source", "handover").exit_code == 0
    assert len(store.read_workspace(path, "hazards")) == 5
