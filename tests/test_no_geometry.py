"""Features without a geometry, or with an empty one, in every format minemap reads.

A fully released record is written with no geometry; files from elsewhere hold
placemarks without a shape and empty cells. Each such feature is a
``missing-geometry`` reject, never a crash or a misleading message. GDAL 3.12's
FlatGeobuf driver, through its own Arrow reader, handed over a damaged geometry
column for such a file (offsets past the end of the data): touching it aborted
Python (``std::length_error``) or crashed it (SIGSEGV).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyogrio
import pytest
import shapely

import minemap as mm
from minemap import _gdal
from minemap import io as mio
from minemap import schema as s
from minemap.errors import InputFileError

SQUARE = shapely.box(46.90, 39.98, 46.91, 39.99)
PROPS = [
    {"hazard_id": "A", "mines_ap": 3, "mines_at": 0},
    {"hazard_id": "B", "mines_ap": 2, "mines_at": 0},
    {"hazard_id": "C", "mines_ap": 1, "mines_at": 0},
]


def _frame(second, third) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {key: [p[key] for p in PROPS] for key in PROPS[0]},
        geometry=[SQUARE, second, third],
        crs="EPSG:4326",
    )


def _geojson(path: Path) -> Path:
    geometries = [shapely.geometry.mapping(SQUARE), None, {"type": "Polygon", "coordinates": []}]
    features = [
        {"type": "Feature", "properties": p, "geometry": g}
        for p, g in zip(PROPS, geometries, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _kml_text() -> str:
    ring = " ".join(f"{x},{y}" for x, y in SQUARE.exterior.coords)
    shapes = [
        (
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates>"
            "</LinearRing></outerBoundaryIs></Polygon>"
        ),
        "",  # a placemark without a shape
        "<Polygon></Polygon>",
    ]
    marks = "".join(
        "<Placemark><ExtendedData>"
        + "".join(f'<Data name="{k}"><value>{v}</value></Data>' for k, v in p.items())
        + f"</ExtendedData>{shape}</Placemark>"
        for p, shape in zip(PROPS, shapes, strict=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{marks}</Document></kml>'
    )


def _kml(path: Path) -> Path:
    path.write_text(_kml_text())
    return path


def _kmz(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("doc.kml", _kml_text())
    return path


def _csv(path: Path) -> Path:
    path.write_text(
        "hazard_id,mines_ap,mines_at,wkt\n"
        f'A,3,0,"{SQUARE.wkt}"\n'
        "B,2,0,GEOMETRYCOLLECTION EMPTY\n"
        "C,1,0,POLYGON EMPTY\n"
    )
    return path


def _gdal_writer(driver: str, **options):
    def write(path: Path) -> Path:
        pyogrio.write_dataframe(_frame(None, shapely.Polygon()), path, driver=driver, **options)
        return path

    return write


def _zipped_shapefile(path: Path) -> Path:
    parts = path.parent / "parts"
    parts.mkdir()
    _gdal_writer("ESRI Shapefile")(parts / "h.shp")
    with zipfile.ZipFile(path, "w") as archive:
        for part in parts.iterdir():
            archive.write(part, part.name)
    return path


def _parquet(path: Path) -> Path:
    _frame(None, shapely.Polygon()).to_parquet(path)
    return path


WRITERS = {
    ".geojson": _geojson,
    ".gpkg": _gdal_writer("GPKG"),
    ".shp": _gdal_writer("ESRI Shapefile"),
    ".zip": _zipped_shapefile,
    ".fgb": _gdal_writer("FlatGeobuf", layer_options={"SPATIAL_INDEX": "NO"}),
    ".kml": _kml,
    ".kmz": _kmz,
    ".parquet": _parquet,
    ".csv": _csv,
}


@pytest.mark.parametrize("suffix", list(WRITERS))
def test_null_and_empty_geometries_are_missing_geometry_rejects(tmp_path, suffix):
    path = WRITERS[suffix](tmp_path / f"h{suffix}")
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    assert loaded.read == 3
    assert loaded.kept[s.HAZARD_ID].tolist() == ["A"]
    assert shapely.normalize(loaded.kept.geometry.iloc[0]).equals_exact(
        shapely.normalize(SQUARE), tolerance=1e-9
    )
    assert loaded.rejected[s.HAZARD_ID].tolist() == ["B", "C"]
    assert all(p.startswith("missing-geometry: ") for p in loaded.rejected["problem"]), loaded
    assert [p.rule for p in loaded.errors] == ["missing-geometry", "missing-geometry"]


def test_an_empty_wkt_cell_is_a_missing_geometry_reject(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(f'hazard_id,mines_ap,mines_at,wkt\nA,3,0,"{SQUARE.wkt}"\nB,2,0,\n')
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    assert loaded.kept[s.HAZARD_ID].tolist() == ["A"]
    assert [p.rule for p in loaded.errors] == ["missing-geometry"]


def test_a_fully_released_record_written_to_flatgeobuf_reads_back(tmp_path):
    # What `remaining -o x.fgb` writes for a record with nothing left: no geometry.
    path = mm.write_layer(_frame(None, shapely.Polygon()), tmp_path / "rem.fgb")
    back = mio.read_file(path)
    assert back["hazard_id"].tolist() == ["A", "B", "C"]
    assert back.geometry.isna().tolist() == [False, True, True]
    assert mio.GEOMETRY_NOTE not in back.columns  # nothing "unreadable"


def test_a_flatgeobuf_starting_without_geometry_reads_it_as_none(tmp_path):
    # GDAL's own Arrow reader gave b"" (not null) for a first feature without geometry.
    frame = _frame(None, shapely.Polygon()).iloc[[1, 0]]
    path = mm.write_layer(frame, tmp_path / "rem.fgb")
    back = mio.read_file(path)
    assert back.geometry.isna().tolist() == [True, False]
    assert mio.GEOMETRY_NOTE not in back.columns


def test_gdal_reads_flatgeobuf_through_its_generic_arrow_reader():
    assert _gdal.SETTINGS["OGR_FLATGEOBUF_STREAM_BASE_IMPL"] == "YES"
    assert pyogrio.get_gdal_config_option("OGR_FLATGEOBUF_STREAM_BASE_IMPL") in (True, "YES")


def test_a_damaged_arrow_table_from_gdal_is_an_error_never_a_crash(tmp_path, monkeypatch):
    # Should a driver hand over a geometry column whose offsets run past its data again,
    # the reader says so before anything reads the column.
    path = mm.write_layer(_frame(SQUARE, SQUARE), tmp_path / "h.fgb")
    real = pyogrio.read_arrow

    def damaged(*args, **kwargs):
        meta, table = real(*args, **kwargs)
        column = table.column("wkb_geometry").combine_chunks()
        offsets = pa.py_buffer(pa.array([0, 93, 0, 93], pa.int32()).buffers()[1])
        broken = pa.Array.from_buffers(
            column.type, len(column), [None, offsets, column.buffers()[2]]
        )
        index = table.column_names.index("wkb_geometry")
        return meta, table.set_column(index, table.field(index), pa.chunked_array([broken]))

    monkeypatch.setattr(pyogrio, "read_arrow", damaged)
    with pytest.raises(InputFileError, match=r"h\.fgb: .*geometries came back damaged"):
        mio.read_file(path)


@pytest.mark.parametrize("rows", [[0, 1, 2], [1, 0], [0, 2], [1]])
def test_reading_flatgeobuf_without_geometry_never_kills_the_process(tmp_path, rows):
    # A crash is a signal (negative return code): run the read in its own process.
    path = tmp_path / "h.fgb"
    _gdal_writer("FlatGeobuf", layer_options={"SPATIAL_INDEX": "NO"})(path)
    frame = pyogrio.read_dataframe(path).iloc[rows]
    pyogrio.write_dataframe(frame, path, layer_options={"SPATIAL_INDEX": "NO"})
    script = (
        "import sys\n"
        "from minemap import io as mio\n"
        "from minemap.errors import MinemapError\n"
        "try:\n"
        "    frame = mio.read_file(sys.argv[1])\n"
        "except MinemapError as exc:\n"
        "    print(exc); sys.exit(1)\n"
        "print(frame['hazard_id'].tolist(), frame.geometry.isna().tolist())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr + done.stdout
    ids = [PROPS[i]["hazard_id"] for i in rows]
    assert done.stdout.strip() == f"{ids} {[i != 0 for i in rows]}"


def test_remaining_to_flatgeobuf_with_a_fully_released_record_reads_back(tmp_path):
    hazards = _frame(
        shapely.box(46.92, 39.98, 46.93, 39.99), shapely.box(46.94, 39.98, 46.95, 39.99)
    )
    hazards.to_file(tmp_path / "h.geojson")
    releases = gpd.GeoDataFrame(
        {"release_id": ["R1"], "released_on": ["2022-01-03"], "method": ["cleared"]},
        geometry=[SQUARE],
        crs="EPSG:4326",
    )
    releases.to_file(tmp_path / "r.geojson")
    out = tmp_path / "rem.fgb"
    script = "import sys\nfrom minemap.cli import main\nmain(sys.argv[1:])\n"
    args = ["remaining", "--hazards", str(tmp_path / "h.geojson")]
    args += ["--releases", str(tmp_path / "r.geojson"), "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr + done.stdout
    back = mio.read_file(out)
    assert back["hazard_id"].tolist() == ["A", "B", "C"]
    assert back.geometry.isna().tolist() == [True, False, False]  # A fully released
