"""Readers and writers: formats, aliases, CRS, atomic writes, unreadable files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

import minemap as mm
from minemap import io as mio
from minemap import schema as s
from minemap.errors import (
    InputFileError,
    OutputExistsError,
    OutputFileError,
    SchemaError,
    ValidationError,
)
from tests.common import shapefile_and_kml, weekly_releases

FORMATS = Path(__file__).parent / "data" / "formats"
SQUARE = shapely.box(46.90, 39.98, 46.91, 39.99)
OTHER = shapely.box(46.92, 39.98, 46.93, 39.99)


def _square(i: int) -> shapely.Polygon:
    return shapely.box(46.90 + 0.02 * i, 39.98, 46.91 + 0.02 * i, 39.99)


def _geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _feature(props, geom=SQUARE):
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def _releases():
    return gpd.GeoDataFrame(
        {
            "release_id": ["R1", "R2"],
            "released_on": pd.to_datetime(["2021-05-10", "2022-07-18"]),
            "method": ["cleared", "cancelled"],
            "items_ap": pd.array([3, 0], dtype="Int64"),
            "organisation": ["ANAMA", "HALO Trust – Ağdam"],
        },
        geometry=[SQUARE, OTHER],
        crs="EPSG:4326",
    )


def test_aliases_map_case_insensitively(tmp_path):
    path = _geojson(tmp_path / "h.geojson", [_feature({"ID": " H-1 ", "AP": 3, "At": 1})])
    frame = mm.read_hazards(path)
    assert frame[s.HAZARD_ID].tolist() == ["H-1"]  # trimmed
    assert frame[s.MINES_AP].tolist() == [3]
    assert frame[s.MINES_AT].tolist() == [1]


@pytest.mark.parametrize(
    ("columns", "kind", "expected"),
    [
        (
            ["Anti_Personnel", "ANTI_TANK", "Hazard_Ref"],
            "hazards",
            [s.MINES_AP, s.MINES_AT, s.HAZARD_ID],
        ),
        (
            ["Cleared_On", "TYPE", "Task_ID", "UXO"],
            "releases",
            [s.RELEASED_ON, s.METHOD, s.RELEASE_ID, s.ITEMS_UXO],
        ),
        (["released_o", "Organization"], "releases", [s.RELEASED_ON, s.ORGANISATION]),
        (["shapeName", "shapeISO"], "districts", [s.DISTRICT, s.ISO_3166_2]),
        (["Device_Type", "Date", "depth"], "items", [s.ITEM_TYPE, s.FOUND_ON, s.DEPTH_CM]),
    ],
)
def test_known_aliases(columns, kind, expected):
    out = mio.normalise_columns(pd.DataFrame(columns=columns), kind)
    assert list(out.columns) == expected


def test_explicit_mapping_wins(tmp_path):
    path = _geojson(
        tmp_path / "h.geojson", [_feature({"ref": "A", "AP_COUNT": 7, "AT": 0, "AP": 1})]
    )
    frame = mm.read_hazards(path, mapping={s.HAZARD_ID: "ref", s.MINES_AP: "AP_COUNT"})
    assert frame[s.MINES_AP].tolist() == [7]


def test_explicit_mapping_over_a_canonical_column_keeps_the_other(tmp_path):
    frame = pd.DataFrame({"mines_ap": [1], "AP_TOTAL": [9]})
    out = mio.normalise_columns(frame, "hazards", {s.MINES_AP: "ap_total"})
    assert out[s.MINES_AP].tolist() == [9]
    assert out["mines_ap_unmapped"].tolist() == [1]


def test_mapping_to_a_missing_column_names_the_columns():
    with pytest.raises(SchemaError, match=r"'nope'.*its columns are: a, b"):
        mio.normalise_columns(pd.DataFrame(columns=["a", "b"]), "hazards", {s.MINES_AP: "nope"})


def test_projected_input_is_brought_to_wgs84(tmp_path):
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]},
        geometry=[SQUARE],
        crs="EPSG:4326",
    ).to_crs("EPSG:32638")
    frame.to_file(tmp_path / "h.gpkg")
    read = mm.read_hazards(tmp_path / "h.gpkg")
    assert read.crs.equals("EPSG:4326")
    assert read.geometry.iloc[0].equals_exact(SQUARE, tolerance=1e-7)


ROUND_TRIP = [
    *(".gpkg", ".geojson", ".shp", ".zip", ".fgb", ".kml", ".kmz", ".parquet", ".csv", ".xlsx")
]


@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_round_trip(tmp_path, suffix):
    path = mm.write_layer(_releases(), tmp_path / f"r{suffix}")
    crs = "EPSG:4326" if suffix in (".csv", ".xlsx") else None  # WKT cells have no CRS
    back = mm.read_releases(path, crs=crs)
    assert back[s.RELEASE_ID].tolist() == ["R1", "R2"]
    assert back[s.RELEASED_ON].dt.strftime("%Y-%m-%d").tolist() == ["2021-05-10", "2022-07-18"]
    assert back[s.METHOD].tolist() == ["cleared", "cancelled"]
    assert back[s.ITEMS_AP].tolist() == [3, 0]
    assert back[s.ORGANISATION].tolist() == ["ANAMA", "HALO Trust – Ağdam"]
    assert back.attrs["problems"] == []  # no Z from KML, nothing repaired
    # Shapefiles turn rings clockwise: compare normalised shapes.
    for got, want in zip(back.geometry, [SQUARE, OTHER], strict=True):
        assert shapely.normalize(got).equals_exact(shapely.normalize(want), tolerance=1e-9)


@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_a_layer_as_read_writes_to_every_format(tmp_path, suffix):
    # What the readers keep in attrs (their warnings) went into geopandas' Parquet
    # metadata, which is JSON: `remaining -o out.parquet` failed with a TypeError.
    source = mm.write_layer(_releases(), tmp_path / "r.geojson")
    read = mm.read_releases(source, hazards=gpd.GeoDataFrame(geometry=[], crs=4326))
    assert read.attrs["problems"]  # two "outside-hazards" warnings
    back = mm.read_releases(mm.write_layer(read, tmp_path / f"out{suffix}"), crs="EPSG:4326")
    assert back[s.RELEASE_ID].tolist() == ["R1", "R2"]


def test_points_round_trip_through_csv_as_longitude_latitude(tmp_path):
    items = gpd.GeoDataFrame(
        {"item_id": ["I1"], "found_on": ["2022-07-19"], "item_type": ["AP"]},
        geometry=[shapely.Point(46.905, 39.985)],
        crs="EPSG:4326",
    )
    path = mm.write_layer(items, tmp_path / "i.csv")
    assert pd.read_csv(path).columns.tolist()[-2:] == ["longitude", "latitude"]
    back = mm.read_items(path)  # named longitude/latitude: no --crs needed
    assert back.geometry.iloc[0].equals(shapely.Point(46.905, 39.985))


@pytest.mark.parametrize("name", ["r.docx", "r.ods", "r.xls", "r"])
def test_unknown_output_format_is_refused(tmp_path, name):
    with pytest.raises(SchemaError, match="unknown output format"):
        mm.write_layer(_releases(), tmp_path / name)
    with pytest.raises(SchemaError, match="not a table format minemap writes"):
        mio.write_table(pd.DataFrame({"a": [1]}), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_what_a_format_cannot_hold_is_an_error_naming_the_file(tmp_path):
    mixed = gpd.GeoDataFrame(
        {"a": [1, 2]}, geometry=[shapely.Point(46.9, 40), shapely.Point(46.9, 40, 300)], crs=4326
    )
    with pytest.raises(OutputFileError, match=r"m\.fgb: cannot be written as \.fgb .*\.gpkg"):
        mm.write_layer(mixed, tmp_path / "m.fgb")
    assert list(tmp_path.iterdir()) == []  # no half-written or temporary file
    assert mm.write_layer(mixed, tmp_path / "m.gpkg").exists()


@pytest.mark.parametrize("suffix", [".kml", ".kmz"])
def test_kml_gets_placemarks_without_geometry_where_kml_cannot_hold_it(tmp_path, suffix):
    flat = shapely.Polygon([(46.95, 39.98), (46.96, 39.98), (46.95, 39.98)])
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["A", "B", "C"]},
        geometry=[SQUARE, shapely.Polygon(), shapely.MultiPolygon([OTHER, flat])],
        crs="EPSG:4326",
    )  # B: fully released; C: a part of no area (LIBKML refused both)
    back = mio.read_file(mm.write_layer(frame, tmp_path / f"h{suffix}"))
    assert back["hazard_id"].tolist() == ["A", "B", "C"]
    assert back.geometry.isna().tolist() == [False, True, False]
    assert shapely.equals(back.geometry.iloc[2], OTHER)


def test_zipped_shapefile_in_cp1251_reads_cyrillic_names():
    frame = mm.read_districts(FORMATS / "districts_cp1251.zip")
    assert frame[s.DISTRICT].tolist() == ["Aghdam", "Fuzuli", "Shusha", "Tartar"]
    assert frame[s.ISO_3166_2].tolist() == ["AZ-AGM", "AZ-FUZ", "AZ-SUS", "AZ-TAR"]


@pytest.mark.parametrize("suffix", [".kml", ".kmz"])
def test_kml_holds_multi_part_and_holed_polygons_valid_and_whole(tmp_path, suffix):
    holed = SQUARE.difference(SQUARE.centroid.buffer(0.002))
    flat = shapely.Polygon([(46.95, 39.98), (46.96, 39.98), (46.95, 39.98)])
    sliver = shapely.Polygon([(46.97, 39.98), (46.98, 39.98), (46.97, 39.98 + 1e-13)])
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["parts", "holed", "holed-parts", "flat-part", "flat"]},
        geometry=[
            shapely.MultiPolygon([SQUARE, OTHER]),
            holed,
            shapely.MultiPolygon([holed, OTHER]),
            shapely.MultiPolygon([OTHER, flat]),
            flat,
        ],
        crs="EPSG:4326",
    )
    frame.loc[len(frame)] = ["sliver", shapely.MultiPolygon([SQUARE, sliver])]
    path = mm.write_layer(frame, tmp_path / f"h{suffix}")
    if suffix == ".kmz":
        with zipfile.ZipFile(path) as archive:
            text = "".join(archive.read(name).decode() for name in archive.namelist())
    else:
        text = path.read_text()
    assert text.count("<innerBoundaryIs>") == 2
    back = _read_back(path)
    assert back["hazard_id"].tolist() == frame["hazard_id"].tolist()
    geoms = back.geometry.to_numpy()
    assert pd.isna(geoms).tolist() == [False] * 4 + [True, False]
    written = geoms[[0, 1, 2, 3, 5]]
    assert shapely.is_valid(written).all(), shapely.is_valid_reason(written)
    assert [shapely.get_num_geometries(g) for g in written] == [2, 1, 2, 1, 2]
    assert [shapely.get_num_interior_rings(shapely.get_geometry(g, 0)) for g in written] == [
        0,
        1,
        1,
        0,
        0,
    ]
    wanted = [SQUARE.area + OTHER.area, holed.area, holed.area + OTHER.area, OTHER.area]
    wanted.append(SQUARE.area + sliver.area)  # tiny, but an area: KML holds it
    assert shapely.area(written) == pytest.approx(wanted, rel=1e-9)


def test_kml_from_gdal_loses_its_extra_columns_and_gets_its_id_back():
    raw = mio.read_file(FORMATS / "hazards_gdal_kml.kml")
    assert not set(mio.KML_EXTRA_COLUMNS) & set(raw.columns)
    assert "id2" not in raw.columns
    frame = mm.read_hazards(FORMATS / "hazards_gdal_kml.kml")
    assert frame[s.HAZARD_ID].tolist() == ["AGM-1", "AGM-2"]
    assert frame[s.MINES_AP].tolist() == [12, 0]
    assert frame[s.DISTRICT].tolist() == ["Aghdam", "Aghdam"]
    assert not frame.geometry.has_z.any()


def test_kml_names_and_descriptions_are_kept_when_they_hold_data(tmp_path):
    frame = gpd.GeoDataFrame(
        {"Name": ["Field 7"], "district": ["Fuzuli"]}, geometry=[SQUARE], crs="EPSG:4326"
    )
    pyogrio.write_dataframe(frame, tmp_path / "d.kml", driver="LIBKML")
    raw = mio.read_file(tmp_path / "d.kml")
    assert raw["Name"].tolist() == ["Field 7"]
    assert "description" not in raw.columns


def _google_earth_kml(with_ids: bool) -> str:
    """A KML as Google Earth saves it: folders, styles, Data elements, zero altitudes."""

    def placemark(name, west, ap):
        data = f'<Data name="hazard_id"><value>{name}</value></Data>' if with_ids else ""
        corners = [(west, 39.98), (west + 0.01, 39.98), (west + 0.01, 39.99), (west, 39.99)]
        ring = " ".join(f"{x},{y},0" for x, y in [*corners, corners[0]])
        return (
            f"<Placemark><name>{name}</name><styleUrl>#s1</styleUrl><ExtendedData>{data}"
            f'<Data name="AP"><value>{ap}</value></Data><Data name="AT"><value>0</value></Data>'
            "</ExtendedData><Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing>"
            f"<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
            "</Placemark>"
        )

    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        '<Document><name>Minefields.kmz</name><Style id="s1"><PolyStyle><color>7f0000ff</color>'
        "</PolyStyle></Style>"
        f"<Folder><name>Aghdam</name>{placemark('H-1', 46.90, 12)}</Folder>"
        f"<Folder><name>Fuzuli</name>{placemark('H-2', 46.92, 5)}</Folder>"
        "</Document></kml>"
    )


def test_kmz_saved_by_google_earth_reads_every_folder(tmp_path):
    path = tmp_path / "Minefields.kmz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("doc.kml", _google_earth_kml(with_ids=True))
    frame = mm.read_hazards(path)
    assert frame[s.HAZARD_ID].tolist() == ["H-1", "H-2"]
    assert frame[s.MINES_AP].tolist() == [12, 5]
    assert not frame.geometry.has_z.any()
    assert frame.attrs["problems"] == []
    assert "id" not in frame.columns  # LIBKML's empty placemark id is dropped


def test_kml_without_ids_says_the_column_is_missing_not_that_every_id_is_empty(tmp_path):
    path = tmp_path / "noid.kml"
    path.write_text(_google_earth_kml(with_ids=False), encoding="utf-8")
    loaded = mio.load_layers([path], "hazards")
    assert [p.rule for p in loaded.problems] == ["missing-column"]
    assert "Name" in loaded.problems[0].message  # the column to --map hazard_id= from
    assert len(loaded.rejected) == 2


def test_shapefile_without_its_shx_or_dbf_names_the_missing_file(tmp_path):
    mm.write_layer(_releases(), tmp_path / "r.shp")
    (tmp_path / "r.dbf").unlink()
    with pytest.raises(InputFileError, match=r"r\.shp: the Shapefile has no \.dbf"):
        mm.read_releases(tmp_path / "r.shp")
    (tmp_path / "r.shx").unlink()
    with pytest.raises(InputFileError, match=r"no \.shx \(its index\) and no \.dbf"):
        mio.layer_names(tmp_path / "r.shp")
    archive = tmp_path / "r.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(tmp_path / "r.shp", "r.shp")
    with pytest.raises(InputFileError, match=r"r\.zip: the Shapefile has no \.shx"):
        mm.read_releases(archive)


def test_a_file_with_no_features_is_a_warning_and_loses_nothing(tmp_path):
    path = _geojson(tmp_path / "none.geojson", [])
    loaded = mio.load_layers([path], "releases")
    assert (loaded.read, len(loaded.kept), len(loaded.rejected)) == (0, 0, 0)
    assert [(p.rule, p.severity) for p in loaded.problems] == [("empty-layer", "warning")]
    assert set(s.REQUIRED["releases"]) <= set(loaded.kept.columns)


def test_csv_with_wkt_and_semicolons_and_decimal_commas():
    hazards = mm.read_hazards(
        FORMATS / "hazards_wkt.csv", crs="EPSG:4326", mapping={s.MINES_AP: "AP_TOTAL"}
    )
    assert hazards[s.HAZARD_ID].tolist() == ["007", "008"]  # text, leading zeros kept
    assert hazards[s.DISTRICT].tolist() == ["Aghdam", "Fuzuli"]
    items = mm.read_items(FORMATS / "items_lonlat.csv")
    assert items.geometry.iloc[0].equals(shapely.Point(46.905, 39.985))
    assert items[s.ITEM_TYPE].tolist() == ["AP", "UXO"]


def test_csv_with_x_y_needs_a_crs(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text("item_id,found_on,item_type,x,y\nI1,2022-07-19,AP,500000,4420000\n")
    with pytest.raises(InputFileError, match=r"pass crs=\.\.\. with") as info:
        mm.read_items(path)
    assert "--" not in str(info.value)
    items = mm.read_items(path, crs="EPSG:32638")
    assert 44.9 < items.geometry.iloc[0].x < 45.1


def test_longitude_latitude_columns_stay_degrees_under_a_projected_crs(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("item_id,found_on,item_type,lon,lat\nI1,2022-07-19,AP,46.905,39.985\n")
    # --crs EPSG:32638 is there for the UTM inputs read alongside: not for degrees.
    items = mm.read_items(path, crs="EPSG:32638")
    assert (items.geometry.x.iloc[0], items.geometry.y.iloc[0]) == (46.905, 39.985)
    pulkovo = mm.read_items(path, crs="EPSG:4284")  # a geographic CRS names the datum
    assert pulkovo.geometry.x.iloc[0] != pytest.approx(46.905, abs=1e-9)
    assert pulkovo.geometry.x.iloc[0] == pytest.approx(46.905, abs=0.01)


def test_csv_rows_with_bad_geometry_are_rejected_not_lost(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        "hazard_id,mines_ap,mines_at,wkt\n"
        f'A,1,0,"{SQUARE.wkt}"\n'
        'B,1,0,"POLYGON ((1 2, 3"\n'
        f'C,1,0,"{OTHER.wkt}"\n'
    )
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    assert loaded.kept[s.HAZARD_ID].tolist() == ["A", "C"]
    assert [p.rule for p in loaded.errors] == ["unreadable-geometry"]
    assert loaded.read == len(loaded.kept) + len(loaded.rejected)


def test_geoparquet_without_geometry_is_an_input_error(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    with pytest.raises(InputFileError, match="without GeoParquet metadata"):
        mm.read_hazards(path)


def test_geopackage_layers(tmp_path):
    path = tmp_path / "all.gpkg"
    hz = gpd.GeoDataFrame(
        {"hazard_id": ["A"], "mines_ap": [1], "mines_at": [0]}, geometry=[SQUARE], crs="EPSG:4326"
    )
    hz.to_file(path, layer="hazards")
    hz.to_file(path, layer="minefields_2021", mode="a")
    assert len(mm.read_hazards(path)) == 1  # the layer named like the kind
    assert len(mm.read_hazards(path, layer="minefields_2021")) == 1
    with pytest.raises(InputFileError, match="no layer 'x'; its layers are: hazards, minefields"):
        mm.read_hazards(path, layer="x")
    with pytest.raises(InputFileError, match=r"choose one with layer=\.\.\.") as info:
        mm.read_districts(path)
    assert "--" not in str(info.value)


def test_zip_with_two_shapefiles_is_refused(tmp_path):
    frame = gpd.GeoDataFrame({"district": ["A"]}, geometry=[SQUARE], crs="EPSG:4326")
    mm.write_layer(frame, tmp_path / "a.shp")
    mm.write_layer(frame, tmp_path / "b.shp")
    with zipfile.ZipFile(tmp_path / "ab.zip", "w") as archive:
        for part in tmp_path.iterdir():
            if part.suffix != ".zip":
                archive.write(part, part.name)
    with pytest.raises(InputFileError, match="holds 2 map layers"):
        mm.read_districts(tmp_path / "ab.zip")


def test_unclosed_ring_is_closed_with_a_warning(tmp_path):
    ring = [[46.90, 39.98], [46.91, 39.98], [46.91, 39.99], [46.90, 39.99]]
    path = tmp_path / "h.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"hazard_id": "A", "mines_ap": 1, "mines_at": 0},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        )
    )
    frame = mm.read_hazards(path)
    assert [p.rule for p in frame.attrs["problems"]] == ["ring-not-closed"]
    assert shapely.normalize(frame.geometry.iloc[0]).equals(shapely.normalize(SQUARE))


def test_writers_refuse_to_overwrite_and_leave_no_temporary_files(tmp_path):
    frame = gpd.GeoDataFrame({"district": ["A"]}, geometry=[SQUARE], crs="EPSG:4326")
    for name in ("d.gpkg", "d.parquet", "d.zip", "d.csv"):
        path = mm.write_layer(frame, tmp_path / name)
        with pytest.raises(OutputExistsError, match="pass overwrite=True to replace it") as info:
            mm.write_layer(frame, path)
        assert "--" not in str(info.value)
        mm.write_layer(frame, path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "d.gpkg", "d.parquet", "d.zip"]
    assert sorted(zipfile.ZipFile(tmp_path / "d.zip").namelist()) == [
        "d.cpg",
        "d.dbf",
        "d.prj",
        "d.shp",
        "d.shx",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.geojson", None, "no such file"),
        ("empty.geojson", b"", "the file is empty"),
        (
            "truncated.geojson",
            b'{"type": "FeatureCollection", "features": [{"type": "Fea',
            "cannot be read as a map layer",
        ),
        ("garbage.gpkg", bytes(range(256)) * 4, "is not a readable .gpkg file"),
        ("garbage.fgb", bytes(range(256)) * 4, "is not a readable .fgb file"),
        ("garbage.parquet", bytes(range(256)) * 4, "cannot be read"),
        ("garbage.kmz", bytes(range(256)) * 4, "is not a valid kmz file"),
        ("garbage.csv", bytes(range(256)) * 4, "is not UTF-8 text"),
        ("table.csv", b"a,b\n1,2\n", "no geometry"),
        ("report.docx", b"PK\x03\x04junk", "'.docx' is not a format minemap reads"),
    ],
)
def test_unreadable_files_name_the_file_and_the_problem(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as info:
        mm.read_hazards(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_rejected_features_are_all_reported_and_nothing_is_lost(tmp_path):
    features = [
        _feature({"hazard_id": "A", "mines_ap": 1, "mines_at": 0}, _square(0)),
        _feature({"hazard_id": "A", "mines_ap": 2, "mines_at": 0}, _square(1)),
        _feature({"hazard_id": "B", "mines_ap": -1, "mines_at": 0}, _square(2)),
        _feature({"hazard_id": "C", "mines_ap": 1, "mines_at": 0}, _square(3)),
    ]
    path = _geojson(tmp_path / "h.geojson", features)
    with pytest.raises(ValidationError) as info:
        mm.read_hazards(path)
    rules = sorted(p.rule for p in info.value.problems)
    assert rules == ["bad-count", "duplicate-id", "duplicate-id"]
    loaded = mio.load_layers([path], "hazards")
    assert loaded.read == len(loaded.kept) + len(loaded.rejected) == 4
    assert loaded.kept[s.HAZARD_ID].tolist() == ["C"]
    assert loaded.rejected["problem"].str.len().gt(0).all()
    assert loaded.rejected["source_row"].tolist() == [1, 2, 3]
    assert "read 4, kept 1, rejected 3" in loaded.summary()


def test_a_missing_column_rejects_every_feature_with_the_reason(tmp_path):
    path = _geojson(tmp_path / "h.geojson", [_feature({"hazard_id": "A"})])
    loaded = mio.load_layers([path], "hazards")
    assert loaded.read == len(loaded.rejected) == 1
    assert "no column mines_ap" in loaded.rejected["problem"].iloc[0]


def test_ids_must_be_unique_across_files(tmp_path):
    a = _geojson(tmp_path / "a.geojson", [_feature({"hazard_id": "X", "AP": 1, "AT": 0})])
    b = _geojson(tmp_path / "b.geojson", [_feature({"hazard_id": "X", "AP": 1, "AT": 0}, OTHER)])
    loaded = mio.load_layers([a, b], "hazards")
    assert {p.file for p in loaded.errors} == {str(a), str(b)}
    assert {p.row for p in loaded.errors} == {1}


def test_readers_do_not_change_their_context_layers(tmp_path):
    districts = gpd.GeoDataFrame(
        {"district": ["Aghdam"]}, geometry=[shapely.box(46, 39, 47, 40)], crs="EPSG:4326"
    )
    before = districts.copy()
    path = _geojson(tmp_path / "h.geojson", [_feature({"hazard_id": "A", "AP": 1, "AT": 0})])
    mm.read_hazards(path, districts=districts)
    pd.testing.assert_frame_equal(districts, before)


def test_a_bad_crs_argument_is_a_schema_error(tmp_path):
    with pytest.raises(SchemaError, match="'EPSG:99999' is not a coordinate reference system"):
        mm.read_hazards(FORMATS / "hazards_wkt.csv", crs="EPSG:99999")


@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_every_geometry_written_is_valid_and_polygonal(tmp_path, suffix):
    bow_tie = shapely.Polygon([(46.90, 39.98), (46.91, 39.99), (46.91, 39.98), (46.90, 39.99)])
    collection = shapely.GeometryCollection(
        [OTHER, shapely.LineString([(46.95, 39.98), (46.96, 39.99)])]
    )
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["bow-tie", "collection", "released", "square"]},
        geometry=[bow_tie, collection, shapely.Polygon(), SQUARE],
        crs="EPSG:4326",
    )
    back = _read_back(mm.write_layer(frame, tmp_path / f"h{suffix}"))
    assert back["hazard_id"].tolist() == frame["hazard_id"].tolist()
    geoms = back.geometry.to_numpy()
    # A fully released record has no polygon: no geometry, not an empty one.
    assert pd.isna(geoms).tolist() == [False, False, True, False]
    written = geoms[[0, 1, 3]]
    assert shapely.is_valid(written).all(), shapely.is_valid_reason(written)
    assert set(shapely.get_type_id(written)) <= {3, 6}  # Polygon, MultiPolygon
    # Repairing keeps the ground: the bow-tie's two triangles, the collection's square.
    assert shapely.area(written[0]) == pytest.approx(shapely.area(bow_tie.buffer(0)) * 2)
    assert shapely.area(written[1]) == pytest.approx(OTHER.area, rel=1e-9)
    assert shapely.area(written[2]) == pytest.approx(SQUARE.area, rel=1e-9)


def _read_back(path: Path) -> gpd.GeoDataFrame:
    """A written layer as another program reads it (GDAL feature by feature, pandas)."""
    if path.suffix in (".csv", ".xlsx"):
        table = (
            pd.read_csv(path, keep_default_na=False)
            if path.suffix == ".csv"
            else pd.read_excel(path, engine="calamine", keep_default_na=False)
        )
        wkt = table.pop("wkt").to_numpy(dtype=object)
        wkt[wkt == ""] = None
        return gpd.GeoDataFrame(table, geometry=shapely.from_wkt(wkt), crs=4326)
    if path.suffix == ".parquet":
        return gpd.read_parquet(path)
    target = f"/vsizip/{path}" if path.suffix == ".zip" else str(path)
    return pyogrio.read_dataframe(target, use_arrow=False)


# --- the same release in two files ------------------------------------------------


def test_the_same_release_in_a_shapefile_and_a_kml_is_one_release(tmp_path):
    shp, kml = shapefile_and_kml(tmp_path)
    # What GDAL did to them: the Shapefile's rings run the other way round.
    ring = pyogrio.read_dataframe(shp).geometry.iloc[0].exterior
    assert ring.is_ccw != weekly_releases().geometry.iloc[0].exterior.is_ccw
    loaded = mio.load_layers([shp, kml], "releases")
    assert loaded.errors == []
    assert loaded.kept[s.RELEASE_ID].tolist() == ["R-2024-001", "R-2024-002", "R-2024-003"]
    assert len(loaded.rejected) == 0
    assert len(loaded.copies) == 3
    assert loaded.read == len(loaded.kept) + len(loaded.rejected) + len(loaded.copies)
    copies = [p for p in loaded.warnings if p.rule == "duplicate-copy"]
    assert len(copies) == 3
    assert all(p.file == str(kml) and str(shp) in p.message for p in copies)
    assert "3 exact copies counted once" in loaded.summary()


def test_the_same_id_with_other_content_is_an_error_on_both_and_says_what_was_set_aside(
    tmp_path,
):
    changed = weekly_releases()
    changed.loc[1, "released_on"] = "2024-03-12"  # R-2024-002: another day in the KML
    shp, kml = shapefile_and_kml(tmp_path, changed)
    loaded = mio.load_layers([shp, kml], "releases")
    errors = [(p.file, p.feature, p.rule) for p in loaded.errors]
    assert errors == [
        (str(shp), "release_id R-2024-002", "duplicate-id"),
        (str(kml), "release_id R-2024-002", "duplicate-id"),
    ]
    assert "released_on" in loaded.errors[0].message  # what differs
    assert len(loaded.copies) == 2  # the other two releases are copies
    assert len(loaded.rejected) == 2
    area = mm.geodesy.geodesic_area_ha(weekly_releases().geometry.to_numpy()[[1]])[0] * 2
    assert f"rejected 2 ({area:,.2f} ha set aside)" in loaded.summary()


def test_the_same_hazard_in_two_files_is_one_record_not_a_duplicate_record(tmp_path):
    record = {"hazard_id": "AGM-9", "AP": 12, "AT": "0", "status": "Open"}
    a = _geojson(tmp_path / "a.geojson", [_feature(record)])
    b = _geojson(tmp_path / "b.geojson", [_feature({**record, "AT": 0, "status": "open "})])
    loaded = mio.load_layers([a, b], "hazards")
    assert [(p.file, p.rule) for p in loaded.problems] == [(str(b), "duplicate-copy")]
    assert len(loaded.kept) == len(loaded.copies) == 1
    # Twice the mines would be a different record: an error on both.
    c = _geojson(tmp_path / "c.geojson", [_feature({**record, "AP": 24})])
    loaded = mio.load_layers([a, c], "hazards")
    assert {(p.file, p.rule) for p in loaded.errors} >= {
        (str(a), "duplicate-id"),
        (str(c), "duplicate-id"),
    }
    assert any("differ in mines_ap" in p.message for p in loaded.errors)


def test_copies_with_empty_values_are_still_copies(tmp_path):
    frame = weekly_releases()
    frame.loc[0, "organisation"] = None
    frame["items_ap"] = frame["items_ap"].astype(float)
    frame.loc[1, "items_ap"] = None
    shp, kml = shapefile_and_kml(tmp_path, frame=frame)
    loaded = mio.load_layers([shp, kml], "releases")
    assert (len(loaded.kept), len(loaded.copies), len(loaded.rejected)) == (3, 3, 0)


def test_one_file_holding_an_id_twice_is_an_error_even_as_an_exact_copy(tmp_path):
    record = {"hazard_id": "AGM-9", "AP": 12, "AT": 0}
    path = _geojson(tmp_path / "a.geojson", [_feature(record), _feature(record)])
    loaded = mio.load_layers([path], "hazards")
    found = [p for p in loaded.errors if p.rule == "duplicate-id"]
    assert len(found) == 2
    assert all("in one file" in p.message for p in found)
    assert loaded.read == len(loaded.kept) + len(loaded.rejected)


def test_copies_survive_coordinates_rounded_to_six_decimals(tmp_path):
    # Google Earth and many exporters keep 6 decimals (about 10 cm): still the same release.
    rounded = weekly_releases()
    rounded["geometry"] = shapely.transform(rounded.geometry.to_numpy(), lambda xy: xy.round(6))
    shp, kml = shapefile_and_kml(tmp_path, rounded)
    loaded = mio.load_layers([shp, kml], "releases")
    assert (len(loaded.kept), len(loaded.copies)) == (3, 3)
    # A corner moved by 5 m is another survey of it: not a copy.
    moved = weekly_releases()
    corners = list(moved.geometry.iloc[2].exterior.coords)
    corners[1] = (corners[1][0] + 0.00006, corners[1][1])
    corners[-1] = corners[0]
    moved.loc[2, "geometry"] = shapely.Polygon(corners)
    other = tmp_path / "moved"
    other.mkdir()
    shp, kml = shapefile_and_kml(other, moved)
    loaded = mio.load_layers([shp, kml], "releases")
    assert [p.feature for p in loaded.errors] == ["release_id R-2024-003"] * 2
    assert "differ in geometry" in loaded.errors[0].message
