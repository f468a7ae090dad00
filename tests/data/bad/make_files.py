"""Make the bad-file corpus (tests/data/bad/) and the format fixtures (tests/data/formats/).

Run from the repository root: ``python tests/data/bad/make_files.py``. The files
are committed; this script says how each was made. ``EXPECTED.csv`` beside it
names, for each bad file, the message ``minemap validate`` must print.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

BAD = Path(__file__).parent
FORMATS = BAD.parent / "formats"

# 1 km squares near Aghdam.
SQUARE = shapely.box(46.90, 39.98, 46.91, 39.99)
OTHER = shapely.box(46.92, 39.98, 46.93, 39.99)


def _feature(props, geom):
    geometry = geom if isinstance(geom, dict) else shapely.geometry.mapping(geom)
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _geojson(name, features):
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    (BAD / name).write_text(text + "\n", encoding="utf-8")


def _hazard(hid, geom=SQUARE, **extra):
    return _feature({"hazard_id": hid, "mines_ap": 1, "mines_at": 0, **extra}, geom)


def _shapefile_zip(frame, zip_path, encoding, cpg_text=None):
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "districts.shp"
        pyogrio.write_dataframe(frame, shp, encoding=encoding)
        if cpg_text is not None:
            shp.with_suffix(".cpg").write_text(cpg_text)
        with zipfile.ZipFile(zip_path, "w") as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, f"districts/{part.name}")


def make_bad() -> None:
    (BAD / "empty.geojson").write_bytes(b"")
    (BAD / "truncated.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "prope'
    )
    (BAD / "garbage.gpkg").write_bytes(bytes((i * 37 + 11) % 256 for i in range(2048)))
    (BAD / "hazards.xlsx").write_bytes(b"PK\x03\x04" + bytes(range(200)))
    with zipfile.ZipFile(BAD / "hazards.docx", "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with zipfile.ZipFile(BAD / "no_shapefile.zip", "w") as archive:
        archive.writestr("readme.txt", "the shapefile was forgotten")
        archive.writestr("hazards.xls", "not a map")
    (BAD / "not_a_zip.zip").write_bytes(b"this is not a zip archive at all\n" * 4)
    frame = gpd.GeoDataFrame({"district": ["Агдам"]}, geometry=[SQUARE], crs="EPSG:4326")
    _shapefile_zip(frame, BAD / "unknown_encoding.zip", "cp1251", cpg_text="FOO-42")
    _shapefile_zip(frame, BAD / "wrong_encoding.zip", "cp1251", cpg_text="UTF-8")
    (BAD / "latin1.csv").write_bytes(
        "hazard_id,AP,AT,lon,lat\nH-1,1,0,46.9,39.98\nAğ\n".encode("cp1254")
    )
    (BAD / "no_geometry.csv").write_text("hazard_id,AP,AT\nH-1,1,0\n")
    (BAD / "wkt_without_crs.csv").write_text(f'hazard_id,AP,AT,wkt\nH-1,1,0,"{SQUARE.wkt}"\n')
    with tempfile.TemporaryDirectory() as tmp:
        two = Path(tmp) / "two.gpkg"
        pyogrio.write_dataframe(frame, two, layer="zones")
        pyogrio.write_dataframe(frame, two, layer="roads", append=True)
        shutil.copy(two, BAD / "two_layers.gpkg")
    # A GeoPackage in UTM 38N holding longitude/latitude numbers: the CRS is wrong.
    wrong = gpd.GeoDataFrame(
        {"hazard_id": ["H-1"], "mines_ap": [1], "mines_at": [0]},
        geometry=[SQUARE],
        crs="EPSG:32638",
    )
    path = BAD / "wrong_crs.gpkg"
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(wrong, path)
    _drop_gpkg_timestamps(path)

    _geojson(
        "unclosed_and_repeated.geojson",
        [
            _hazard(
                "H-1",
                {
                    "type": "Polygon",
                    "coordinates": [
                        [[46.90, 39.98], [46.91, 39.98], [46.91, 39.99], [46.90, 39.99]]
                    ],
                },
            ),
            _hazard(
                "H-2",
                {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [46.92, 39.98],
                            [46.93, 39.98],
                            [46.93, 39.98],
                            [46.93, 39.99],
                            [46.92, 39.98],
                        ]
                    ],
                },
            ),
            _hazard(
                "H-3",
                {
                    "type": "Polygon",
                    "coordinates": [[[46.94, 39.98], [46.95, 39.98], [46.94, 39.98]]],
                },
            ),
        ],
    )
    _geojson(
        "swapped.geojson",
        [_hazard("H-1", shapely.box(39.98, 46.90, 39.99, 46.91)), _hazard("H-2", OTHER)],
    )
    _geojson(
        "swapped_off_globe.geojson", [_hazard("H-1", shapely.box(39.98, 146.90, 39.99, 146.91))]
    )
    _geojson(
        "long_segment.geojson",
        [_hazard("H-1", shapely.Polygon([(46.90, 39.98), (46.98, 39.98), (46.98, 39.99)]))],
    )
    _geojson("duplicate_ids.geojson", [_hazard(" H-1"), _hazard("H-1 ", OTHER)])
    _geojson("same_record_twice.geojson", [_hazard("H-1"), _hazard("H-2")])
    _geojson("unknown_district.geojson", [_hazard("H-1", district="Agdamm")])
    _geojson("future_date.geojson", [_hazard("H-1", submitted_on="2999-01-01")])
    _geojson("point_hazard.geojson", [_hazard("H-1", shapely.Point(46.9, 39.98))])
    _geojson("bad_counts.geojson", [_feature({"id": "H-1", "AP": -3, "AT": 1.5}, SQUARE)])
    _geojson(
        "bad_release.geojson",
        [_feature({"release_id": "R-1", "released_on": "31/02/2022", "method": "demined"}, SQUARE)],
    )

    # Hostile files (SECURITY.md): each must be refused, or its feature rejected.
    (BAD / "vrt_named_geojson.geojson").write_text(
        '<OGRVRTDataSource><OGRVRTLayer name="hazards">'
        "<SrcDataSource>CSV:/etc/passwd</SrcDataSource>"
        "</OGRVRTLayer></OGRVRTDataSource>\n"
    )
    layer = {
        "type": "FeatureCollection",
        # Port 9 (discard) on this machine: nothing to learn even if it were fetched.
        "crs": {"type": "link", "properties": {"href": "http://127.0.0.1:9/crs.wkt"}},
        "features": [_hazard("H-1")],
    }
    (BAD / "link_crs.geojson").write_text(json.dumps(layer) + "\n", encoding="utf-8")
    _shapefile_zip(frame, BAD / "big_cpg.zip", "utf-8", cpg_text="UTF-8" + " " * 2043)
    _geojson("nul_in_id.geojson", [_hazard("H-\x001"), _hazard("H-2", OTHER)])
    deep = "GEOMETRYCOLLECTION (" * 40 + SQUARE.wkt + ")" * 40
    (BAD / "deep_collection.csv").write_text(
        f'hazard_id,AP,AT,wkt\nH-1,1,0,"{deep}"\nH-2,1,0,"{OTHER.wkt}"\n'
    )


def _drop_gpkg_timestamps(path: Path) -> None:
    """Keep the committed GeoPackage byte-stable between runs (GDAL stamps the time)."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_contents SET last_change = '2024-01-01T00:00:00.000Z'")


def make_formats() -> None:
    FORMATS.mkdir(exist_ok=True)
    frame = gpd.GeoDataFrame(
        {
            "name": ["Агдам", "Физули", "Шуша", "Тертер"],
            "iso": ["AZ-AGM", "AZ-FUZ", "AZ-SUS", "AZ-TAR"],
        },
        geometry=[shapely.box(46.8 + 0.2 * i, 39.9, 47.0 + 0.2 * i, 40.05) for i in range(4)],
        crs="EPSG:4326",
    )
    _shapefile_zip(frame, FORMATS / "districts_cp1251.zip", "cp1251")
    # GDAL's KML driver keeps the placemark id in "id" and renames the data's "id" to "id2".
    kml = gpd.GeoDataFrame(
        {"id": ["AGM-1", "AGM-2"], "AP": [12, 0], "AT": [3, 7], "Rayon": ["Ağdam", "Agdam"]},
        geometry=[SQUARE, OTHER],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(kml, FORMATS / "hazards_gdal_kml.kml", driver="KML")
    (FORMATS / "items_lonlat.csv").write_text(
        "ID;Date;Type;Longitude;Latitude\n"
        "I-1;2022-07-19;AP;46,905;39,985\n"
        "I-2;2022-07-20;UXO;46,925;39,985\n",
        encoding="utf-8",
    )
    (FORMATS / "hazards_wkt.csv").write_text(
        "Hazard,AP_TOTAL,AT,District,WKT\n"
        f'007,5,0,Ağdam,"{SQUARE.wkt}"\n'
        f'008,0,2,Füzuli,"{OTHER.wkt}"\n',
        encoding="utf-8",
    )


if __name__ == "__main__":
    make_bad()
    make_formats()
