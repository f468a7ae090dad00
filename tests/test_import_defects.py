"""Import defects found by running minemap over real files (issue 13 item 7).

Each test builds a file the way the program that makes such files does (QGIS,
ArcGIS, Excel, a reprojection), and runs it through the readers or the CLI.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import struct
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import pytest
import shapely
from click.testing import CliRunner

from minemap import io as mio
from minemap import schema as s
from minemap.cli import main

SQUARE = shapely.box(46.90, 39.98, 46.91, 39.99)


def _square(i: int) -> shapely.Polygon:
    return shapely.box(46.90 + 0.02 * i, 39.98, 46.91 + 0.02 * i, 39.99)


def _releases(tmp_path):
    path = tmp_path / "releases.geojson"
    gpd.GeoDataFrame(
        {s.RELEASE_ID: ["R1"], s.RELEASED_ON: ["2024-01-10"], s.METHOD: ["cleared"]},
        geometry=[shapely.box(46.9, 39.98, 46.905, 39.985)],
        crs="EPSG:4326",
    ).to_file(path)
    return str(path)


def _hazards_with_an_empty_id(count: int = 3) -> gpd.GeoDataFrame:
    """Hazards whose integer ids have a gap, as a QGIS attribute table makes them."""
    ids = pd.array([101, None, 102][:count], dtype="Int64")
    return gpd.GeoDataFrame(
        {
            s.HAZARD_ID: ids,
            s.MINES_AP: pd.array([3, 1, 0][:count], dtype="Int64"),
            s.MINES_AT: pd.array([0, 0, 2][:count], dtype="Int64"),
        },
        geometry=[_square(i) for i in range(count)],
        crs="EPSG:4326",
    )


# --- ids kept as written --------------------------------------------------------


@pytest.mark.parametrize("suffix", [".shp", ".gpkg", ".geojson", ".fgb"])
def test_integer_ids_with_a_gap_are_kept_as_written(tmp_path, suffix):
    """GDAL gives an integer field with a null as floats: 101 came back as '101.0'."""
    path = tmp_path / f"hazards{suffix}"
    pyogrio.write_dataframe(_hazards_with_an_empty_id(), path)
    assert pyogrio.read_dataframe(path)[s.HAZARD_ID].dtype == "float64"  # what GDAL gives
    loaded = mio.load_layers([path], "hazards")
    assert sorted(loaded.kept[s.HAZARD_ID]) == ["101", "102"]  # FlatGeobuf reorders
    assert [p.rule for p in loaded.errors] == ["missing-id"]
    assert loaded.rejected[s.HAZARD_ID].isna().all()


def test_geojson_ids_written_by_hand_with_a_null_stay_whole(tmp_path):
    path = tmp_path / "hazards.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"hazard_id": hid, "mines_ap": 1, "mines_at": 0},
            "geometry": shapely.geometry.mapping(_square(i)),
        }
        for i, hid in enumerate([7, None, 2024000001])
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    loaded = mio.load_layers([path], "hazards")
    assert loaded.kept[s.HAZARD_ID].tolist() == ["7", "2024000001"]


def test_releases_refer_to_hazards_by_the_id_as_written(tmp_path):
    releases = gpd.GeoDataFrame(
        {
            s.RELEASE_ID: pd.array([1, 2], dtype="Int64"),
            s.RELEASED_ON: ["2024-02-01", "2024-02-02"],
            s.METHOD: ["cleared", "reduced"],
            s.HAZARD_ID: pd.array([101, None], dtype="Int64"),
        },
        geometry=[_square(0), _square(1)],
        crs="EPSG:4326",
    )
    path = tmp_path / "releases.gpkg"
    pyogrio.write_dataframe(releases, path)
    kept = mio.load_layers([path], "releases").kept
    assert kept[s.RELEASE_ID].tolist() == ["1", "2"]
    assert kept[s.HAZARD_ID].tolist()[0] == "101"
    assert pd.isna(kept[s.HAZARD_ID].tolist()[1])


def test_csv_ids_with_a_gap_stay_as_written(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        "item_id,found_on,item_type,lon,lat\n101,2024-01-02,AP,46.9,39.98\n"
        ",2024-01-02,AP,46.91,39.98\n0102,2024-01-02,AT,46.92,39.98\n"
    )
    loaded = mio.load_layers([path], "items")
    assert loaded.kept[s.ITEM_ID].tolist() == ["101", "0102"]
    assert [p.rule for p in loaded.errors] == ["missing-id"]


# --- an empty geometry cell -------------------------------------------------------


def test_one_empty_wkt_cell_is_one_missing_geometry_and_the_rest_goes_in(tmp_path):
    """An Excel 'CSV UTF-8' export: a row without its WKT stopped the whole file."""
    path = tmp_path / "hazards.csv"
    path.write_text(
        "hazard_id;mines_ap;mines_at;WKT\r\n"
        f'A;1;0;"{_square(0).wkt}"\r\n'
        "B;2;0;\r\n"
        f'C;0;1;"{_square(2).wkt}"\r\n'
        'D;0;1;"   "\r\n',
        encoding="utf-8-sig",
    )
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    assert loaded.kept[s.HAZARD_ID].tolist() == ["A", "C"]
    assert [(p.feature, p.rule) for p in loaded.errors] == [
        ("hazard_id B", "missing-geometry"),
        ("hazard_id D", "missing-geometry"),
    ]
    assert loaded.read == len(loaded.kept) + len(loaded.rejected)


def test_empty_coordinate_cells_are_missing_geometry_not_an_error_of_the_file(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        "item_id,found_on,item_type,longitude,latitude\n"
        "I1,2024-01-02,AP,46.9,39.98\nI2,2024-01-02,AP,,\nI3,2024-01-02,AT,46.91,x\n"
    )
    loaded = mio.load_layers([path], "items")
    assert loaded.kept[s.ITEM_ID].tolist() == ["I1"]
    assert sorted((p.feature, p.rule) for p in loaded.errors) == [
        ("item_id I2", "missing-geometry"),
        ("item_id I3", "unreadable-geometry"),
    ]


# --- curved geometries (ArcGIS) -------------------------------------------------


def _wkb_point(x, y):
    return struct.pack("<dd", x, y)


def _wkb_curve(code, points):
    return struct.pack("<BII", 1, code, len(points)) + b"".join(_wkb_point(*p) for p in points)


def _wkb_collection(code, parts):
    return struct.pack("<BII", 1, code, len(parts)) + b"".join(parts)


CENTRE, RADIUS = (46.905, 39.985), 0.002


def _arcgis_geometries():
    """What ArcGIS Pro writes for a round-ended and a round hazard: a MultiSurface of a
    CurvePolygon with a CompoundCurve ring (an arc, then straight sides), and a
    CurvePolygon whose ring is one CircularString (a full circle).
    """
    x, y = CENTRE
    ring = _wkb_collection(
        9,
        [
            _wkb_curve(8, [(x - RADIUS, y), (x, y + RADIUS), (x + RADIUS, y)]),  # half circle
            _wkb_curve(2, [(x + RADIUS, y), (x + RADIUS, y - RADIUS), (x - RADIUS, y - RADIUS)]),
            _wkb_curve(2, [(x - RADIUS, y - RADIUS), (x - RADIUS, y)]),
        ],
    )
    round_ended = _wkb_collection(12, [_wkb_collection(10, [ring])])
    cx = x + 0.01
    circle = _wkb_collection(
        10,
        [_wkb_curve(8, [(cx - RADIUS, y), (cx + RADIUS, y), (cx - RADIUS, y)])],
    )
    plain = _wkb_collection(12, [shapely.to_wkb(_square(3), flavor="iso")])
    return [round_ended, circle, plain]


def _arcgis_geopackage(path):
    geoms = np.array(_arcgis_geometries(), dtype=object)
    fields = [
        np.array(["AG-1", "AG-2", "AG-3"], dtype=object),
        np.array([3, 1, 0]),
        np.array([0, 0, 1]),
    ]
    pyogrio.raw.write(
        str(path),
        geoms,
        fields,
        [s.HAZARD_ID, s.MINES_AP, s.MINES_AT],
        geometry_type="Unknown",
        crs="EPSG:4326",
        driver="GPKG",
    )
    # ArcGIS declares the layer's geometry type as MULTISURFACE.
    with sqlite3.connect(path) as con:
        con.execute("UPDATE gpkg_geometry_columns SET geometry_type_name = 'MULTISURFACE'")
    return path


def test_arcgis_curved_polygons_are_linearised_with_a_warning_naming_them(tmp_path):
    path = _arcgis_geopackage(tmp_path / "arcgis.gpkg")
    loaded = mio.load_layers([path], "hazards")
    assert loaded.kept[s.HAZARD_ID].tolist() == ["AG-1", "AG-2", "AG-3"]
    curved = [p for p in loaded.warnings if p.rule == "curved-geometry"]
    assert [p.feature for p in curved] == ["hazard_id AG-1", "hazard_id AG-2"]
    kept = loaded.kept.geometry.to_numpy()
    assert set(shapely.get_type_id(kept)) <= {3, 6}  # polygons only
    assert shapely.is_valid(kept).all()
    # The arcs are stroked finely: areas (planar, in degrees²) within 0.01 % of the
    # true shapes', and every stroked vertex on its circle.
    half_disc = math.pi * RADIUS**2 / 2 + 2 * RADIUS * RADIUS
    assert shapely.area(kept[0]) == pytest.approx(half_disc, rel=1e-4)
    assert shapely.area(kept[1]) == pytest.approx(math.pi * RADIUS**2, rel=1e-4)
    centre = np.array([CENTRE[0] + 0.01, CENTRE[1]])
    ring = shapely.get_coordinates(kept[1])
    assert np.allclose(np.hypot(*(ring - centre).T), RADIUS, rtol=1e-9)
    assert len(ring) >= 360  # at most 1° of arc a segment


def test_curved_polygons_go_through_the_cli_with_a_warning(tmp_path):
    path = _arcgis_geopackage(tmp_path / "arcgis.gpkg")
    result = CliRunner().invoke(main, ["validate", "--kind", "hazards", str(path)])
    assert result.exit_code == 0, result.output
    assert "curved-geometry" in result.output
    assert "AG-1" in result.output


# --- coordinates a hair outside the range ----------------------------------------


def _districts_at_the_antimeridian(tmp_path, east):
    """A districts layer reprojected by a GIS: its eastern edge lands on 180.00000000000006."""
    ring = [[179.5, 65.0], [east, 65.0], [east, 66.0], [179.5, 66.0], [179.5, 65.0]]
    south = [[10.0, -90.00000000000001], [11.0, -90.0], [11.0, -89.5], [10.0, -89.5]]
    features = [
        {
            "type": "Feature",
            "properties": {"district": name},
            "geometry": {"type": "Polygon", "coordinates": [[*coords, coords[0]]]},
        }
        for name, coords in (("Chukotka east", ring[:-1]), ("Queen Maud Land", south))
    ]
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_coordinates_within_1e_9_of_the_range_are_clamped_with_a_warning(tmp_path):
    path = _districts_at_the_antimeridian(tmp_path, 180.00000000000006)
    loaded = mio.load_layers([path], "districts")
    assert len(loaded.kept) == 2
    assert not loaded.errors
    clamped = [p for p in loaded.warnings if p.rule == "coordinates-clamped"]
    assert [p.feature for p in clamped] == ["district Chukotka east", "district Queen Maud Land"]
    bounds = shapely.total_bounds(loaded.kept.geometry.to_numpy())
    assert bounds[2] == 180.0
    assert bounds[1] == -90.0


def test_coordinates_further_out_are_still_out_of_range(tmp_path):
    path = _districts_at_the_antimeridian(tmp_path, 180.000001)
    loaded = mio.load_layers([path], "districts")
    assert [p.rule for p in loaded.errors] == ["coordinates-out-of-range"]


# --- the long-segment rule: hazards and releases only, --max-segment ----------------


def _grid(size_deg: float, n: int = 3) -> gpd.GeoDataFrame:
    cells = [
        shapely.box(
            46.5 + i * size_deg,
            39.5 + j * size_deg,
            46.5 + (i + 1) * size_deg,
            39.5 + (j + 1) * size_deg,
        )
        for i in range(n)
        for j in range(n)
    ]
    return gpd.GeoDataFrame(
        {s.DISTRICT: [f"cell {k}" for k in range(len(cells))]}, geometry=cells, crs="EPSG:4326"
    )


def test_a_grid_of_large_cells_is_a_districts_layer_not_long_segments(tmp_path):
    path = tmp_path / "grid.gpkg"
    _grid(0.1).to_file(path)  # cells of about 8.5 x 11 km
    loaded = mio.load_layers([path], "districts")
    assert len(loaded.kept) == 9
    assert not loaded.problems
    runner = CliRunner()
    hazards = tmp_path / "hazards.geojson"
    _hazards_with_an_empty_id(1).assign(**{s.HAZARD_ID: ["H1"]}).to_file(hazards)
    result = runner.invoke(
        main,
        [
            *("remaining", "--hazards", str(hazards), "--releases", _releases(tmp_path)),
            *("--districts", str(path), "-q"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "long-segment" not in result.output


def _long_hazard(tmp_path):
    path = tmp_path / "long.geojson"
    gpd.GeoDataFrame(
        {s.HAZARD_ID: ["L1"], s.MINES_AP: [1], s.MINES_AT: [0]},
        geometry=[shapely.box(46.9, 39.9, 46.98, 39.91)],  # 6.8 km long
        crs="EPSG:4326",
    ).to_file(path)
    return path


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([], 1),
        (["--max-segment", "8000"], 0),
        (["--max-segment-km", "8"], 0),  # the earlier spelling, hidden, still works
        (["--max-segment", "6000"], 1),
    ],
)
def test_max_segment_in_metres(tmp_path, args, code):
    hazards = str(_long_hazard(tmp_path))
    args = ["remaining", "--hazards", hazards, "--releases", _releases(tmp_path), *args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    assert ("long-segment" in result.output) == (code == 1)


def test_both_spellings_at_once_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        main,
        ["validate", str(_long_hazard(tmp_path)), "--max-segment", "8000", "--max-segment-km", "9"],
    )
    assert result.exit_code == 2
    assert "not both" in result.output


def _reading_commands():
    for name, command in sorted(main.commands.items()):
        options = {o for p in command.params for o in getattr(p, "opts", ())}
        if "--crs" in options:
            yield name, options


@pytest.mark.parametrize(("name", "options"), list(_reading_commands()))
def test_every_reading_command_takes_max_segment(name, options):
    assert "--max-segment" in options


def test_the_reading_commands_are_found():
    names = {name for name, _ in _reading_commands()}
    assert {"validate", "remaining", "map", "report", "progress", "accuracy", "density"} <= names
    assert {"priorities", "add"} <= names


def test_add_records_a_max_segment_other_than_the_default(tmp_path):
    workspace = tmp_path / "ws.gpkg"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(workspace)]).exit_code == 0
    result = runner.invoke(
        main,
        ["add", "hazards", str(workspace), str(_long_hazard(tmp_path)), "--max-segment", "8000"],
    )
    assert result.exit_code == 0, result.output
    log = runner.invoke(main, ["log", str(workspace), "--json"])
    assert json.loads(log.stdout)[0]["read_options"]["max_segment_m"] == 8000


# --- no library warning on the terminal -------------------------------------------


@pytest.fixture
def noisy_gdal(monkeypatch):
    """Libraries talking: a pandas FutureWarning, and a GDAL message as pyogrio logs it."""
    original = pyogrio.list_layers

    def list_layers(*args, **kwargs):
        warnings.warn("DataFrame.applymap has been deprecated", FutureWarning, stacklevel=2)
        logging.getLogger("pyogrio._err").warning("GDAL: field 'AREA' parsed incompletely")
        return original(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "list_layers", list_layers)


@pytest.mark.parametrize("flag", ["-q", None])
def test_library_warnings_never_reach_the_terminal(tmp_path, noisy_gdal, flag):
    path = tmp_path / "hazards.gpkg"
    _hazards_with_an_empty_id(1).assign(**{s.HAZARD_ID: ["H1"]}).to_file(path)
    args = ["validate", str(path), *([flag] if flag else [])]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "applymap" not in result.output
    assert "parsed incompletely" not in result.output


def test_library_warnings_are_logged_with_verbose(tmp_path, noisy_gdal):
    path = tmp_path / "hazards.gpkg"
    _hazards_with_an_empty_id(1).assign(**{s.HAZARD_ID: ["H1"]}).to_file(path)
    result = CliRunner().invoke(main, ["validate", str(path), "-v"])
    assert result.exit_code == 0, result.output
    assert "FutureWarning: DataFrame.applymap has been deprecated" in result.stderr
    assert "pyogrio._err: GDAL: field 'AREA' parsed incompletely" in result.stderr


# --- rejects always writable ------------------------------------------------------


def _qgis_export_with_a_fid_attribute(tmp_path):
    """A GeoPackage exported by QGIS carries its own ``fid``; a GeoJSON of it, as text."""
    path = tmp_path / "hazards.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {
                "fid": f"q{i}",
                "layer": "Hazards 2023",
                "hazard_id": hid,
                "mines_ap": 1,
                "mines_at": 0,
            },
            "geometry": geom,
        }
        for i, (hid, geom) in enumerate(
            [
                ("H1", shapely.geometry.mapping(_square(0))),
                ("H2", {"type": "Point", "coordinates": [46.9, 39.9]}),  # a point: rejected
                ("H3", None),  # no geometry: rejected
                ("H4", {"type": "LineString", "coordinates": [[46.9, 39.9], [46.91, 39.9]]}),
                ("", shapely.geometry.mapping(_square(5))),  # no id: rejected
            ]
        )
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.parametrize(
    "suffix", [".gpkg", ".geojson", ".kml", ".fgb", ".parquet", ".csv", ".xlsx"]
)
def test_rejects_are_always_writable(tmp_path, suffix):
    hazards = _qgis_export_with_a_fid_attribute(tmp_path)
    rejects = tmp_path / f"rejects{suffix}"
    result = CliRunner().invoke(
        main,
        [
            *("remaining", "--hazards", str(hazards), "--releases", _releases(tmp_path)),
            *("--rejects", str(rejects)),
        ],
    )
    assert result.exit_code == 0, result.output
    crs = "EPSG:4326" if suffix in (".csv", ".xlsx") else None
    if suffix == ".fgb":  # GDAL's Arrow reader misreads a FlatGeobuf with a null geometry
        back = pyogrio.read_dataframe(rejects, use_arrow=False)
    else:
        back = mio.read_file(rejects, crs=crs)
    assert len(back) == 4
    assert back["fid"].tolist() == ["q1", "q2", "q3", "q4"]  # the data's own fid, kept
    assert back[s.LAYER].tolist() == ["hazards"] * 4
    assert back["layer_2"].tolist() == ["Hazards 2023"] * 4  # the data's 'layer', kept


@pytest.mark.parametrize(
    ("suffix", "why"), [(".shp", "one geometry type"), (".zip", "one geometry type")]
)
def test_rejects_in_a_format_that_cannot_hold_them_are_refused_before_any_work(
    tmp_path, suffix, why
):
    result = CliRunner().invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(tmp_path / "absent.gpkg"),
            "--rejects",
            str(tmp_path / f"rejects{suffix}"),
        ],
    )
    assert result.exit_code == 2
    assert why in result.stderr
    assert "absent.gpkg" not in result.stderr  # nothing was read


# --- every message names its file ------------------------------------------------


def test_the_summary_of_many_warnings_names_the_files(tmp_path):
    """After the first five warnings of a rule, the count of the rest says where they are."""
    rings = []
    for i in range(8):
        x0 = 46.9 + 0.02 * i
        rings.append(
            shapely.Polygon(
                [
                    (x0, 39.98),
                    (x0 + 0.01, 39.98),
                    (x0 + 0.01, 39.98),
                    (x0 + 0.01, 39.99),
                    (x0, 39.99),
                ]
            )
        )
    path = tmp_path / "repeated.geojson"
    gpd.GeoDataFrame(
        {s.HAZARD_ID: [f"H{i}" for i in range(8)], s.MINES_AP: [1] * 8, s.MINES_AT: [0] * 8},
        geometry=rings,
        crs="EPSG:4326",
    ).to_file(path)
    result = CliRunner().invoke(
        main, ["remaining", "--hazards", str(path), "--releases", _releases(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    summary = [line for line in result.stderr.splitlines() if "repeated-points" in line]
    assert len(summary) == 1
    assert str(path) in summary[0]
    assert "8 features" in summary[0]
