"""Crafted files read no other file and reach no network (minemap._gdal, minemap.io).

Every attack runs against a loopback HTTP server (127.0.0.1, an ephemeral port)
that must see no request, next to a local "secret" file whose content must
appear nowhere: not on stdout or stderr, not in any file written.
"""

from __future__ import annotations

import http.server
import json
import os
import sqlite3
import subprocess
import sys
import threading
import uuid
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

from minemap import _gdal
from minemap import io as mio
from minemap.cli import main
from minemap.errors import InputFileError

DATA = Path(__file__).parent / "data"
RELEASES = str(DATA / "small_releases.geojson")
SQUARE = "POLYGON ((46.85 39.95, 46.86 39.95, 46.86 39.96, 46.85 39.96, 46.85 39.95))"


# --- the loopback server and the secret ------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        body = b'{"type": "FeatureCollection", "features": []}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _answer  # noqa: N815 (the names http.server calls)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    """``(base_url, requests)``: a loopback HTTP server and every request it received."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def secret(tmp_path):
    """``(path, marker)``: a local CSV shaped like a hazards layer, whose ids are the marker."""
    marker = f"SECRET{uuid.uuid4().hex}"
    folder = tmp_path / "private"
    folder.mkdir()
    path = folder / "secret.csv"
    path.write_text(f'hazard_id,mines_ap,mines_at,WKT\n{marker},1,0,"{SQUARE}"\n', encoding="utf-8")
    return path, marker


def _outputs(folder: Path, *texts: str) -> str:
    """Everything written: the texts given and every file under ``folder`` but the secret."""
    parts = list(texts)
    parts.extend(
        path.read_bytes().decode("utf-8", "replace")
        for path in folder.rglob("*")
        if path.is_file() and path.parent.name != "private"
    )
    return "\n".join(parts)


# --- the attacks -------------------------------------------------------------------


def _vrt(source: str, layer: str) -> str:
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="hazards">'
        f"<SrcDataSource>{source}</SrcDataSource><SrcLayer>{layer}</SrcLayer>"
        "<GeometryType>wkbPolygon</GeometryType><LayerSRS>EPSG:4326</LayerSRS>"
        '<GeometryField encoding="WKT" field="WKT"/>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def _gdalg(source: str) -> str:
    return json.dumps(
        {
            "type": "gdal_streamed_alg",
            "command_line": f"gdal vector pipeline ! read {source} ! write --of stream streamed",
        }
    )


def _gml(url: str) -> str:
    schema = (
        f"{url}/wfs?SERVICE=WFS&amp;VERSION=1.1.0&amp;REQUEST=DescribeFeatureType&amp;TYPENAME=h"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" '
        'xmlns:gml="http://www.opengis.net/gml" xmlns:ms="http://example.org/ms" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="http://example.org/ms {schema}">'
        "<gml:featureMember><ms:h><ms:hazard_id>H1</ms:hazard_id><ms:mines_ap>1</ms:mines_ap>"
        "<ms:mines_at>0</ms:mines_at><ms:geom><gml:Polygon><gml:outerBoundaryIs>"
        "<gml:LinearRing><gml:coordinates>46.85,39.95 46.86,39.95 46.86,39.96 46.85,39.95"
        "</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></ms:geom>"
        "</ms:h></gml:featureMember></wfs:FeatureCollection>"
    )


ATTACKS = {
    "vrt-reading-a-local-file": lambda secret, url: _vrt(f"CSV:{secret}", "secret"),
    "vrt-over-vsicurl": lambda secret, url: _vrt(f"/vsicurl/{url}/h.csv", "h"),
    "gdalg-over-vsicurl": lambda secret, url: _gdalg(f"/vsicurl/{url}/h.geojson"),
    "gdalg-reading-a-local-file": lambda secret, url: _gdalg(str(secret)),
    "wfs-gml-with-a-schema-url": lambda secret, url: _gml(url),
}
#: Every extension minemap reads, and GDAL's own for these formats (refused); ".zip:"
#: puts the attack inside a ZIP under that name.
EXTENSIONS = [
    ".vrt",
    ".gml",
    ".geojson",
    ".json",
    ".gpkg",
    ".kml",
    ".kmz",
    ".fgb",
    ".shp",
    ".parquet",
    ".csv",
    ".zip:hazards.geojson",
    ".zip:hazards.kml",
    ".zip:hazards.gpkg",
    ".zip:hazards.fgb",
    ".zip:hazards.shp",
]


def _plant(folder: Path, extension: str, content: str) -> Path:
    """The attack saved under an extension minemap reads (with a Shapefile's sidecars)."""
    if extension.startswith(".zip:"):
        member = extension.split(":", 1)[1]
        path = folder / "hazards.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(member, content)
            if member.endswith(".shp"):
                archive.writestr("hazards.shx", b"\0" * 100)
                archive.writestr("hazards.dbf", b"\0" * 32)
        return path
    path = folder / f"hazards{extension}"
    path.write_text(content, encoding="utf-8")
    if extension == ".shp":
        (folder / "hazards.shx").write_bytes(b"\0" * 100)
        (folder / "hazards.dbf").write_bytes(b"\0" * 32)
    return path


@pytest.mark.parametrize("extension", EXTENSIONS)
@pytest.mark.parametrize("attack", ATTACKS)
def test_a_crafted_file_is_refused_and_reads_nothing_else(
    attack, extension, tmp_path, server, secret
):
    url, requests = server
    secret_path, marker = secret
    path = _plant(tmp_path, extension, ATTACKS[attack](secret_path, url))
    result = CliRunner().invoke(main, ["validate", "--kind", "hazards", str(path)])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.stderr
    assert str(path) in errors[0]
    assert "Traceback" not in result.output
    assert marker not in _outputs(tmp_path, result.stdout, result.stderr)
    assert requests == []
    assert not list(tmp_path.rglob("*.gfs"))


@pytest.mark.parametrize("extension", [".geojson", ".gpkg", ".kml", ".fgb", ".zip:hazards.shp"])
def test_a_vrt_never_brings_a_local_file_into_a_map(extension, tmp_path, server, secret):
    """The issue's end-to-end attack: the local file's lines put into map.html."""
    _, requests = server
    secret_path, marker = secret
    path = _plant(tmp_path, extension, _vrt(f"CSV:{secret_path}", "secret"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["map", "--hazards", str(path), "--releases", RELEASES, "-o", str(out / "map.html")],
    )
    assert result.exit_code == 1, result.output
    assert not (out / "map.html").exists()
    assert marker not in _outputs(tmp_path, result.stdout, result.stderr)
    assert requests == []


def test_content_that_does_not_match_its_extension_is_refused_in_one_line(tmp_path, secret):
    path = _plant(tmp_path, ".geojson", _vrt(f"CSV:{secret[0]}", "secret"))
    with pytest.raises(InputFileError) as caught:
        mio.read_file(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert "content does not match its extension" in message
    assert "OGR VRT" in message


def test_a_geopackage_that_is_geojson_inside_is_refused(tmp_path):
    """Content of a format minemap reads, under another format's extension."""
    path = tmp_path / "hazards.gpkg"
    path.write_text((DATA / "small_hazards.geojson").read_text(encoding="utf-8"))
    with pytest.raises(InputFileError, match="content does not match its extension"):
        mio.read_file(path)


def test_a_geojson_link_crs_is_refused_without_fetching_it(tmp_path, server):
    url, requests = server
    layer = json.loads((DATA / "small_hazards.geojson").read_text(encoding="utf-8"))
    layer["crs"] = {"type": "link", "properties": {"href": f"{url}/crs.wkt", "type": "ogcwkt"}}
    path = tmp_path / "hazards.geojson"
    path.write_text(json.dumps(layer), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert requests == []
    error = next(line for line in result.stderr.splitlines() if line.startswith("Error"))
    assert str(path) in error
    assert "network" in error
    assert f"{url}/crs.wkt"[:30] in error


def test_a_kml_network_link_is_not_followed(tmp_path, server):
    url, requests = server
    path = tmp_path / "hazards.kml"
    path.write_text(
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<NetworkLink><Link><href>{url}/more.kml</href></Link></NetworkLink>"
        "<Style id='s'><IconStyle><Icon><href>"
        f"{url}/icon.png</href></Icon></IconStyle></Style>"
        "<Placemark><styleUrl>"
        f"{url}/styles.kml#x</styleUrl><ExtendedData><Data name='hazard_id'><value>H1</value>"
        "</Data><Data name='mines_ap'><value>1</value></Data><Data name='mines_at'><value>0"
        "</value></Data></ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        "46.85,39.95 46.86,39.95 46.86,39.96 46.85,39.95</coordinates></LinearRing>"
        "</outerBoundaryIs></Polygon></Placemark></Document></kml>",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", "--kind", "hazards", str(path)])
    assert result.exit_code == 0, result.output
    assert requests == []


# --- GeoPackages: SQL that reaches beyond the file ----------------------------------


def _geopackage_with_view(path: Path, hazard_id_sql: str) -> None:
    """A GeoPackage whose ``hazards`` layer is a view computing hazard_id with SQL."""
    frame = gpd.GeoDataFrame(
        {"mines_ap": [1], "mines_at": [0]}, geometry=[shapely.from_wkt(SQUARE)], crs=4326
    )
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="base")
    con = sqlite3.connect(path)
    con.execute(
        f"CREATE VIEW hazards AS SELECT fid, geom, CAST({hazard_id_sql} AS TEXT) AS hazard_id, "
        "mines_ap, mines_at FROM base"
    )
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        "VALUES ('hazards', 'features', 'hazards', 4326)"
    )
    con.execute(
        "INSERT INTO gpkg_geometry_columns VALUES ('hazards', 'geom', 'POLYGON', 4326, 0, 0)"
    )
    con.commit()
    con.close()


def _run_isolated(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``minemap ARGS`` in a new process, with extra environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "minemap.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


def test_a_geopackage_view_cannot_geocode_over_the_network(tmp_path, server):
    """Even where the environment allows GDAL's SQL functions in views.

    GDAL 3.12 registers no geocoder on a GeoPackage's connection; the setting that
    refuses such views is set all the same, should a later GDAL register one.
    """
    url, requests = server
    path = tmp_path / "hazards.gpkg"
    _geopackage_with_view(path, "ogr_geocode('Aghdam', 'display_name')")
    result = _run_isolated(
        ["validate", "--layer", "hazards", str(path)],
        {
            "ALLOW_OGR_SQL_FUNCTIONS_FROM_TRIGGER_AND_VIEW": "YES",
            "OGR_GEOCODE_SERVICE": "OSM_NOMINATIM",
            "OGR_GEOCODE_QUERY_TEMPLATE": f"{url}/search?q=%s",
            "OGR_GEOCODE_APPLICATION": "minemap-test",
            "OGR_GEOCODE_EMAIL": "test@example.org",
        },
    )
    assert result.returncode == 1, result.stderr
    assert requests == []
    assert "Traceback" not in result.stderr


def test_a_geopackage_view_cannot_read_another_file(tmp_path):
    """``gdal_get_pixel_value`` would read a local raster, even where the environment allows."""
    import rasterio

    marker = 4242
    raster = tmp_path / "private" / "secret.tif"
    raster.parent.mkdir()
    profile = {
        "driver": "GTiff",
        "width": 1,
        "height": 1,
        "count": 1,
        "dtype": "int32",
        "crs": "EPSG:4326",
        "transform": rasterio.Affine(0.01, 0, 46.85, 0, -0.01, 39.96),
    }
    with rasterio.open(raster, "w", **profile) as dst:
        dst.write(np.array([[[marker]]], dtype="int32"))
    path = tmp_path / "hazards.gpkg"
    _geopackage_with_view(path, f"gdal_get_pixel_value('{raster}', 1, 'pixel', 0, 0)")
    result = _run_isolated(
        ["validate", "--layer", "hazards", str(path)],
        {"OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "YES"},
    )
    assert result.returncode == 1, result.stderr
    assert str(marker) not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def _with_virtual_ogr_table(path: Path, secret: Path) -> None:
    """Add a VirtualOGR table over ``secret`` to an SQLite file (as a crafted file would)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA writable_schema = ON")
    con.execute(
        "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
        "VALUES ('table', 'hazards', 'hazards', 0, ?)",
        (f"CREATE VIRTUAL TABLE hazards USING VirtualOGR('{secret}')",),
    )
    con.commit()
    con.close()


def test_a_geopackage_virtual_table_cannot_read_another_file(tmp_path, secret):
    secret_path, marker = secret
    path = tmp_path / "hazards.gpkg"
    frame = gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.from_wkt(SQUARE)], crs=4326)
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="base")
    _with_virtual_ogr_table(path, secret_path)
    result = CliRunner().invoke(main, ["validate", "--layer", "hazards", str(path)])
    assert result.exit_code == 1, result.output
    assert marker not in _outputs(tmp_path, result.stdout, result.stderr)


@pytest.mark.parametrize("name", ["hazards.gpkg", "hazards.zip:hazards.gpkg"])
def test_a_plain_sqlite_file_with_a_virtual_table_is_refused(name, tmp_path, secret):
    """GDAL's SQLite driver would read the secret through VirtualOGR; it is not registered."""
    secret_path, marker = secret
    plain = tmp_path / "plain.sqlite"
    sqlite3.connect(plain).execute("CREATE TABLE t (x TEXT)").connection.close()
    _with_virtual_ogr_table(plain, secret_path)
    if ":" in name:
        path = tmp_path / name.split(":")[0]
        with zipfile.ZipFile(path, "w") as archive:
            archive.write(plain, name.split(":")[1])
    else:
        path = tmp_path / name
        plain.rename(path)
    plain.unlink(missing_ok=True)
    result = CliRunner().invoke(main, ["validate", "--kind", "hazards", str(path)])
    assert result.exit_code == 1, result.output
    assert marker not in _outputs(tmp_path, result.stdout, result.stderr)


# --- the settings themselves ----------------------------------------------------------


def test_only_the_drivers_minemap_reads_and_writes_are_registered():
    assert set(pyogrio.list_drivers()) <= _gdal.KEPT_DRIVERS
    for drivers in _gdal.READ_DRIVERS.values():
        assert set(drivers) <= set(pyogrio.list_drivers())


def test_the_settings_hold():
    for name, value in _gdal.SETTINGS.items():
        assert pyogrio.get_gdal_config_option(name) == value, name
    assert not pyproj.network.is_network_enabled()


def test_configuring_twice_changes_nothing():
    _gdal.configure()
    assert set(pyogrio.list_drivers()) <= _gdal.KEPT_DRIVERS


@pytest.mark.parametrize(
    "template",
    [
        "/vsicurl/{url}/a.geojson",
        "/vsicurl?url={url}/b.geojson",
        "/vsicurl_streaming/{url}/c.geojson",
        "/vsis3/bucket/d.geojson",
        "/vsis3_streaming/bucket/e.geojson",
        "/vsigs/bucket/f.geojson",
        "/vsiaz/container/g.geojson",
        "/vsiwebhdfs/{url}/webhdfs/v1/h.geojson",
        "/vsizip//vsicurl/{url}/i.zip/i.geojson",
        "/vsigzip//vsicurl/{url}/j.geojson.gz",
    ],
)
def test_gdal_network_file_systems_open_nothing(template, server):
    """Even with endpoints configured to point at a server that answers."""
    url, requests = server
    host = url.removeprefix("http://")
    endpoints = {
        "AWS_S3_ENDPOINT": host,
        "AWS_HTTPS": "NO",
        "AWS_VIRTUAL_HOSTING": "FALSE",
        "AWS_NO_SIGN_REQUEST": "YES",
        "CPL_GS_ENDPOINT": f"{url}/",
        "GS_NO_SIGN_REQUEST": "YES",
        "AZURE_STORAGE_CONNECTION_STRING": (
            f"DefaultEndpointsProtocol=http;AccountName=a;AccountKey=Zm9v;BlobEndpoint={url}/a"
        ),
    }
    pyogrio.set_gdal_config_options(endpoints)
    try:
        with pytest.raises(pyogrio.errors.DataSourceError):
            pyogrio.read_info(template.format(url=url))
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(endpoints))
    assert requests == []


def test_gdal_http_requests_are_refused_and_reported(server):
    url, requests = server
    layer = json.loads((DATA / "small_hazards.geojson").read_text(encoding="utf-8"))
    layer["crs"] = {"type": "link", "properties": {"href": f"{url}/x"}}
    with _gdal.refused_requests() as urls:
        pyogrio.read_info(json.dumps(layer).encode())
    assert urls == [f"{url}/x"]
    assert requests == []


def test_a_density_raster_is_read_as_a_geotiff_only(tmp_path):
    """rasterio has a GDAL of its own: a raster VRT named .tif would read the file it names."""
    import rasterio

    from minemap.density import read_density

    secret = tmp_path / "private" / "secret.tif"
    secret.parent.mkdir()
    profile = {
        "driver": "GTiff",
        "width": 1,
        "height": 1,
        "count": 1,
        "dtype": "int32",
        "crs": "EPSG:4326",
        "transform": rasterio.Affine(0.01, 0, 46.85, 0, -0.01, 39.96),
    }
    with rasterio.open(secret, "w", **profile) as dst:
        dst.write(np.array([[[4242]]], dtype="int32"))
    path = tmp_path / "density.tif"
    path.write_text(
        '<VRTDataset rasterXSize="1" rasterYSize="1"><SRS>EPSG:4326</SRS>'
        "<GeoTransform>46.85, 0.01, 0, 39.96, 0, -0.01</GeoTransform>"
        '<VRTRasterBand dataType="Int32" band="1"><SimpleSource>'
        f"<SourceFilename>{secret}</SourceFilename><SourceBand>1</SourceBand>"
        "</SimpleSource></VRTRasterBand></VRTDataset>",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError) as caught:
        read_density(path)
    assert "4242" not in str(caught.value)
