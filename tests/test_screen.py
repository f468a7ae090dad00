"""Bounded input (minemap._screen, and how minemap.io uses it).

Archives and side files are sized before anything is read, geometries are
measured before GEOS decodes them, and NUL characters are found where GDAL
would silently cut text at them. The attacks that used to crash or exhaust the
process run in a subprocess, so that a crash shows as its exit status (139 for a
segmentation fault) and memory is measured for that process alone.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap import _screen
from minemap import io as mio
from minemap.errors import InputFileError
from tests.common import examples

DATA = Path(__file__).parent / "data"
SQUARE = "POLYGON ((46.85 39.95, 46.86 39.95, 46.86 39.96, 46.85 39.96, 46.85 39.95))"
OTHER = "POLYGON ((46.87 39.95, 46.88 39.95, 46.88 39.96, 46.87 39.96, 46.87 39.95))"
DEEP = 50_000

# Runs `minemap ARGS` and reports, on its last line of stderr, the peak memory it used:
# VmHWM (this program's own peak; ru_maxrss would count the parent's memory too, which
# Linux carries across exec).
_MEASURED = """
import resource, sys
from minemap.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"MAXRSS_KB {peak}", file=sys.stderr)
sys.exit(code)
"""


def _minemap(*args) -> subprocess.CompletedProcess:
    """``minemap ARGS`` in its own process (a crash is its exit status, not ours)."""
    return subprocess.run(
        [sys.executable, "-c", _MEASURED, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONFAULTHANDLER": "0"},
    )


def _peak_mib(result: subprocess.CompletedProcess) -> float:
    line = next(x for x in reversed(result.stderr.splitlines()) if x.startswith("MAXRSS_KB"))
    return int(line.split()[1]) / 1024


def _hazards(geometries, ids=None) -> gpd.GeoDataFrame:
    n = len(geometries)
    return gpd.GeoDataFrame(
        {"hazard_id": ids or [f"H-{i + 1}" for i in range(n)], "mines_ap": [1] * n},
        geometry=[shapely.from_wkt(g) for g in geometries],
        crs=4326,
    ).assign(mines_at=0)


# --- archives and side files ------------------------------------------------------------


@pytest.fixture(scope="module")
def cpg_bomb(tmp_path_factory) -> Path:
    """The issue's ZIP: half a megabyte, whose .cpg expands to 512 MiB."""
    folder = tmp_path_factory.mktemp("bomb")
    _hazards([SQUARE]).to_file(folder / "hazards.shp", engine="pyogrio")
    path = folder / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for part in ("shp", "shx", "dbf", "prj"):
            archive.write(folder / f"hazards.{part}", f"hazards.{part}")
        with archive.open("hazards.cpg", "w", force_zip64=True) as cpg:
            block = b"UTF-8 " * (1024**2 // 6 + 1)
            for _ in range(512):
                cpg.write(block[: 1024**2])
    assert path.stat().st_size < 1024**2
    return path


def test_a_cpg_zip_bomb_is_refused_before_it_is_read(cpg_bomb):
    result = _minemap("validate", cpg_bomb)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    assert str(cpg_bomb) in errors[0]
    assert ".cpg" in errors[0]
    assert len(errors[0]) < 400  # not the 512 MiB the old message quoted
    # Nothing was decompressed: the process stays near an idle Python's size.
    assert _peak_mib(result) < 400


def test_archive_directories_are_checked_member_by_member():
    def archive(*members):
        infos = []
        for name, size, packed in members:
            info = zipfile.ZipInfo(name)
            info.file_size, info.compress_size = size, packed
            infos.append(info)
        return type("Directory", (), {"infolist": lambda self: infos})()

    ok = archive(("a.shp", 10_000_000, 4_000_000), ("a.dbf", 300_000_000, 2_000_000))
    assert _screen.archive_problem(ok, 6_000_000) is None
    bomb = archive(("a.shp", 100, 100), ("a.dbf", 4 * 1024**3, 4 * 1024**2))
    assert "ZIP bomb" in _screen.archive_problem(bomb, 4 * 1024**2)
    big_prj = archive(("a.shp", 100, 100), ("a.prj", 1024**2, 1000))
    assert ".prj" in _screen.archive_problem(big_prj, 2000)
    many = archive(*[(f"{i}.txt", 1, 1) for i in range(_screen.MAX_ARCHIVE_MEMBERS + 1)])
    assert "members" in _screen.archive_problem(many, 100_000)
    huge = archive(*[(f"{i}.dbf", 3 * 1024**3, 1024**3) for i in range(3)])
    assert "would expand to" in _screen.archive_problem(huge, 3 * 1024**3)
    # Overlapping members (one compressed stream listed many times) give themselves away.
    overlapping = archive(*[(f"{i}.dbf", 30 * 1024**2, 40_000) for i in range(100)])
    assert "ZIP bomb" in _screen.archive_problem(overlapping, 40_000)


def _shapefile(folder: Path) -> Path:
    path = folder / "hazards.shp"
    _hazards([SQUARE]).to_file(path, engine="pyogrio")
    return path


def test_an_oversized_prj_beside_a_shapefile_is_refused_unread(tmp_path):
    path = _shapefile(tmp_path)
    (tmp_path / "hazards.prj").write_text("GEOGCS[" + " " * 40_000 + "]", encoding="ascii")
    with pytest.raises(InputFileError, match=r"its \.prj is 40,008 bytes"):
        mio.read_file(path)


def test_an_oversized_cpg_beside_a_shapefile_is_refused_unread(tmp_path):
    path = _shapefile(tmp_path)
    (tmp_path / "hazards.cpg").write_bytes(b"UTF-8" + b" " * 5000)
    with pytest.raises(InputFileError, match=r"its \.cpg is 5,005 bytes"):
        mio.read_file(path)


def test_a_side_file_that_links_elsewhere_is_refused(tmp_path):
    folder = tmp_path / "handover"
    folder.mkdir()
    path = _shapefile(folder)
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("SECRET-CODE-PAGE", encoding="ascii")
    (folder / "hazards.cpg").unlink(missing_ok=True)
    (folder / "hazards.cpg").symlink_to(secret)
    with pytest.raises(InputFileError, match="a link to a file in another folder") as caught:
        mio.read_file(path)
    assert "SECRET" not in str(caught.value)


def test_an_unknown_cpg_is_quoted_short_and_escaped(tmp_path):
    path = _shapefile(tmp_path)
    (tmp_path / "hazards.cpg").write_bytes(b"\x1b]0;pwned\x07" + b"X" * 500)
    with pytest.raises(InputFileError, match="unknown encoding") as caught:
        mio.read_file(path)
    message = str(caught.value)
    assert "\x1b" not in message
    assert "\x07" not in message
    assert "XXXXXXXXXX" * 10 not in message


def test_a_kmz_bomb_is_refused_before_gdal_opens_it(tmp_path):
    path = tmp_path / "hazards.kmz"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("doc.kml", "w", force_zip64=True) as doc,
    ):
        for _ in range(40):
            doc.write(b" " * 1024**2)
    with pytest.raises(InputFileError, match="ZIP bomb"):
        mio.read_file(path)


# --- nesting --------------------------------------------------------------------------


def _nested_wkt(depth: int, inner: str = "POINT (46.85 39.95)") -> str:
    return "GEOMETRYCOLLECTION (" * depth + inner + ")" * depth


def _nested_wkb(depth: int, *, big_endian: bool = False, first: bytes = b"") -> bytes:
    """A GeometryCollection ``depth`` levels deep; ``first`` goes before each inner one."""
    order, fmt = (b"\x00", ">") if big_endian else (b"\x01", "<")
    point = order + struct.pack(fmt + "Idd", 1, 46.85, 39.95)
    blob = point
    for _ in range(depth - 1):
        members = 2 if first else 1
        blob = order + struct.pack(fmt + "II", 7, members) + first + blob
    return blob


def test_deep_wkb_is_found_before_geos_sees_it():
    blobs = np.array(
        [
            _nested_wkb(DEEP),
            _nested_wkb(33, big_endian=True),
            _nested_wkb(33, first=shapely.to_wkb(shapely.Point(1, 2))),
            _nested_wkb(32),
            shapely.to_wkb(shapely.from_wkt(SQUARE)),
            None,
        ],
        dtype=object,
    )
    assert _screen.wkb_too_deep(blobs).tolist() == [True, True, True, False, False, False]


def test_deep_wkt_is_found_before_geos_sees_it():
    texts = np.array(
        # _nested_wkt(n) is n collections around a point: n + 1 levels.
        [_nested_wkt(DEEP), _nested_wkt(32), _nested_wkt(31), SQUARE, None, "junk (((((" * 9],
        dtype=object,
    )
    assert _screen.wkt_too_deep(texts).tolist() == [True, True, False, False, False, False]


def test_many_parts_are_not_mistaken_for_depth():
    parts = [shapely.box(i, 0, i + 0.5, 0.5) for i in range(200)]
    collection = shapely.GeometryCollection(
        [shapely.MultiPolygon(parts[i : i + 5]) for i in range(0, 200, 5)]
    )
    for geometry in (shapely.MultiPolygon(parts), collection):
        assert not _screen.wkb_too_deep(np.array([shapely.to_wkb(geometry)], dtype=object))[0]
        assert not _screen.wkt_too_deep(np.array([shapely.to_wkt(geometry)], dtype=object))[0]


_LEAVES = st.sampled_from(
    [
        shapely.Point(1, 2),
        shapely.Point(1, 2, 3),
        shapely.LineString([(0, 0), (1, 1)]),
        shapely.box(0, 0, 1, 1),
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        shapely.GeometryCollection(),
    ]
)


def _depth(geometry) -> int:
    """How deep a geometry nests: 1 for a point, line, polygon or empty collection."""
    parts = shapely.get_parts(geometry) if shapely.get_type_id(geometry) >= 4 else []
    return 1 + max((_depth(p) for p in parts), default=0)


@st.composite
def _nested(draw):
    """A geometry collection nested to a chosen depth, with parts beside the deep chain.

    The depth returned is measured on the geometry itself: a Multi* beside the
    chain's last point is one level deeper than the point.
    """
    depth = draw(st.integers(1, 40))
    geometry = draw(_LEAVES)
    for _ in range(depth - 1):
        siblings = draw(st.lists(_LEAVES, max_size=2))
        position = draw(st.integers(0, len(siblings)))
        siblings.insert(position, geometry)
        geometry = shapely.GeometryCollection(siblings)
    return geometry, _depth(geometry)


@given(_nested(), st.sampled_from(["wkb-le", "wkb-be", "wkb-iso-z", "wkt"]))
@settings(max_examples=examples(150), deadline=None)
def test_measured_depth_matches_the_geometry(case, encoding):
    geometry, depth = case
    if encoding == "wkt":
        found = _screen.wkt_too_deep(np.array([shapely.to_wkt(geometry)], dtype=object))
    else:
        blob = shapely.to_wkb(
            geometry,
            byte_order=0 if encoding == "wkb-be" else 1,
            output_dimension=3 if encoding == "wkb-iso-z" else 2,
            flavor="iso",
        )
        found = _screen.wkb_too_deep(np.array([blob], dtype=object))
    assert found[0] == (depth > _screen.MAX_NESTING)


def test_a_deep_geometry_in_a_csv_is_rejected_not_a_crash(tmp_path):
    path = tmp_path / "hazards.csv"
    pd.DataFrame(
        {
            "hazard_id": ["DEEP-1", "OK-1"],
            "mines_ap": [1, 2],
            "mines_at": [0, 0],
            "wkt": [_nested_wkt(DEEP), SQUARE],
        }
    ).to_csv(path, index=False)
    result = _minemap("validate", "--crs", "EPSG:4326", path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "hazard_id DEEP-1: error: geometry-too-deep" in result.stdout
    assert "read 2, kept 1, rejected 1" in result.stderr


def _gpkg_with_blob(path: Path, blob: bytes) -> None:
    """A GeoPackage of two hazards whose first geometry is replaced by ``blob`` (raw WKB)."""
    _hazards([SQUARE, OTHER], ids=["DEEP-1", "OK-1"]).to_file(
        path, layer="hazards", engine="pyogrio"
    )
    con = sqlite3.connect(path)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        con.execute(f'DROP TRIGGER "{name}"')
    header = b"GP\x00\x01" + struct.pack("<i", 4326)
    con.execute("UPDATE hazards SET geom = ? WHERE hazard_id = 'DEEP-1'", (header + blob,))
    con.commit()
    con.close()


def test_a_deep_geometry_in_a_geopackage_is_rejected_not_a_crash(tmp_path):
    path = tmp_path / "hazards.gpkg"
    _gpkg_with_blob(path, _nested_wkb(DEEP))
    result = _minemap("validate", path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "hazard_id DEEP-1: error: geometry-too-deep" in result.stdout
    assert "read 2, kept 1, rejected 1" in result.stderr


def test_a_deep_geometry_inside_a_multipolygon_is_rejected_not_a_crash(tmp_path):
    """GEOS reads a Multi*'s members with its general reader: depth can hide there too."""
    path = tmp_path / "hazards.gpkg"
    square = shapely.to_wkb(shapely.from_wkt(SQUARE))
    blob = b"\x01" + struct.pack("<II", 6, 2) + square + _nested_wkb(DEEP)
    _gpkg_with_blob(path, blob)
    result = _minemap("validate", path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "hazard_id DEEP-1: error: geometry-too-deep" in result.stdout


def test_a_deep_geometry_in_geoparquet_is_rejected_not_a_crash(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "hazards.parquet"
    frame = _hazards([SQUARE, OTHER], ids=["DEEP-1", "OK-1"])
    frame.to_parquet(path)
    table = pq.read_table(path)
    blobs = table["geometry"].to_pylist()
    blobs[0] = _nested_wkb(DEEP)
    index = table.column_names.index("geometry")
    table = table.set_column(index, "geometry", pa.array(blobs, type=pa.binary()))
    pq.write_table(table, path)
    result = _minemap("validate", path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "hazard_id DEEP-1: error: geometry-too-deep" in result.stdout
    assert "read 2, kept 1, rejected 1" in result.stderr


@pytest.mark.parametrize("suffix", [".geojson", ".kml"])
def test_deep_nesting_in_text_formats_is_refused_not_a_crash(suffix, tmp_path):
    path = tmp_path / f"hazards{suffix}"
    if suffix == ".geojson":
        inner = '{"type": "Point", "coordinates": [46.85, 39.95]}'
        geometry = '{"type": "GeometryCollection", "geometries": [' * DEEP + inner + "]}" * DEEP
        path.write_text(
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            f'{{"hazard_id": "DEEP-1"}}, "geometry": {geometry}}}]}}',
            encoding="utf-8",
        )
    else:
        point = "<Point><coordinates>46.85,39.95</coordinates></Point>"
        geometry = "<MultiGeometry>" * DEEP + point + "</MultiGeometry>" * DEEP
        path.write_text(
            '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<Placemark><name>DEEP-1</name>{geometry}</Placemark></Document></kml>",
            encoding="utf-8",
        )
    result = _minemap("validate", "--kind", "hazards", path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_a_geometry_nested_within_the_limit_is_read(tmp_path):
    path = tmp_path / "items.csv"
    deep = _nested_wkt(_screen.MAX_NESTING - 1)
    pd.DataFrame({"wkt": [deep]}).to_csv(path, index=False)
    frame = mio.read_file(path, crs="EPSG:4326")
    assert frame.geometry.iloc[0].equals(shapely.from_wkt(deep))


# --- NUL characters -----------------------------------------------------------------------


def _with_nul(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """``frame`` written to ``path`` with its first id turned into "A\\0B" in the file."""
    suffix = path.suffix.lower()
    placeholder = "AQQQQB"
    frame = frame.copy()
    frame.loc[0, "hazard_id"] = placeholder
    if suffix == ".csv":
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["wkt"] = frame.geometry.to_wkt()
        table.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        options = {"layer_options": {"SPATIAL_INDEX": "NO"}} if suffix == ".fgb" else {}
        frame.to_file(path, engine="pyogrio", **options)
    if suffix == ".gpkg":
        con = sqlite3.connect(path)
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute(
            "UPDATE hazards SET hazard_id = 'A' || char(0) || 'B' WHERE hazard_id = ?",
            (placeholder,),
        )
        con.commit()
        con.close()
        return path
    if suffix == ".geojson":
        text = path.read_text(encoding="utf-8").replace(placeholder, "A\\u0000B")
        path.write_text(text, encoding="utf-8")
        return path
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        ids = [("A\x00B" if v == placeholder else v) for v in table["hazard_id"].to_pylist()]
        index = table.column_names.index("hazard_id")
        pq.write_table(table.set_column(index, "hazard_id", pa.array(ids)), path)
        return path
    target = path.with_suffix(".dbf") if suffix == ".shp" else path
    raw = target.read_bytes()
    assert raw.count(placeholder.encode()) == 1
    target.write_bytes(raw.replace(placeholder.encode(), b"A\x00QQQB"))
    return path


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".fgb", ".csv", ".parquet"])
def test_a_nul_character_rejects_the_feature_naming_its_column(suffix, tmp_path):
    path = _with_nul(_hazards([SQUARE, OTHER]), tmp_path / f"hazards{suffix}")
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    assert loaded.read == 2
    assert len(loaded.kept) == 1
    assert loaded.kept["hazard_id"].tolist() == ["H-2"]
    problems = [p for p in loaded.errors if p.rule == "nul-character"]
    assert len(problems) == 1
    assert problems[0].row == 1
    assert "hazard_id" in problems[0].message
    assert loaded.rejected["problem"].str.contains("nul-character").all()


def test_a_nul_character_in_a_zipped_shapefile_is_found(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    _with_nul(_hazards([SQUARE, OTHER]), folder / "hazards.shp")
    path = tmp_path / "hazards.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    loaded = mio.load_layers([path], "hazards")
    assert [p.rule for p in loaded.errors] == ["nul-character"]


def test_nul_padding_after_the_text_of_a_dbf_is_not_an_error(tmp_path):
    """Some writers pad .dbf text with NUL instead of spaces: that cuts nothing."""
    path = tmp_path / "hazards.shp"
    _hazards([SQUARE, OTHER]).to_file(path, engine="pyogrio")
    dbf = path.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    (header,) = struct.unpack_from("<H", raw, 8)
    offset, position = 1, 32
    while not raw[position : position + 11].startswith(b"hazard_id"):
        offset += raw[position + 16]
        position += 32
    width = raw[position + 16]
    field = slice(header + offset, header + offset + width)  # the first record's hazard_id
    assert raw[field].rstrip(b" ") == b"H-1"
    raw[field] = b"H-1".ljust(width, b"\x00")
    dbf.write_bytes(bytes(raw))
    loaded = mio.load_layers([path], "hazards")
    assert not loaded.errors
    assert loaded.kept["hazard_id"].tolist() == ["H-1", "H-2"]


def test_an_escaped_backslash_before_u0000_is_text_not_nul(tmp_path):
    layer = json.loads(_hazards([SQUARE]).to_json())
    layer["features"][0]["properties"]["name"] = "C:\\u0000"
    path = tmp_path / "hazards.geojson"
    path.write_text(json.dumps(layer), encoding="utf-8")
    assert "\\\\u0000" in path.read_text(encoding="utf-8")
    loaded = mio.load_layers([path], "hazards")
    assert not loaded.errors


def test_a_nul_in_a_property_name_refuses_the_file(tmp_path):
    path = tmp_path / "hazards.geojson"
    path.write_text(
        _hazards([SQUARE]).to_json().replace('"mines_ap"', '"mines_ap\\u0000x"'),
        encoding="utf-8",
    )
    with pytest.raises(InputFileError, match="property name holds a NUL"):
        mio.read_file(path)


def test_nul_scans_find_every_cell():
    raw = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"a": "x", "b": "y\x00"}},
                {"type": "Feature", "properties": {"a": {"k": ["\x00"]}, "b": 1}},
                {"type": "Feature", "properties": {"a": "fine"}},
            ],
        }
    ).encode()
    assert _screen.geojson_nul_cells(raw) == {0: ["b"], 1: ["a"]}
    assert _screen.geojson_nul_cells(b'{"type": "FeatureCollection", "features": []}') is None


def test_utf16_csv_is_named_as_such(tmp_path):
    path = tmp_path / "hazards.csv"
    path.write_bytes("hazard_id,wkt\nH-1,POINT (1 2)\n".encode("utf-16"))
    with pytest.raises(InputFileError, match="UTF-16"):
        mio.read_file(path, crs="EPSG:4326")


def test_readers_keep_the_layer_intact_for_ordinary_files():
    """The scans change nothing for the bundled sample (no notes, no rejects)."""
    from minemap import datasets

    for kind in ("hazards", "releases", "districts"):
        frame = mio.read_file(datasets.get_path(kind))
        assert "_geometry_note" not in frame.columns
        assert "_text_note" not in frame.columns
    assert pyogrio.list_drivers()
