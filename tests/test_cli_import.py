"""Reading what programmes really send (issue 13): kind guessing, --map, profiles, languages.

Files are made like the real ones: a Google Earth KML, QGIS Shapefiles in UTM with
Azerbaijani or Russian columns and values in their Windows code pages.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from minemap import schema as s
from minemap.cli import main

DATA = Path(__file__).parent / "data"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
DISTRICTS = str(DATA / "small_districts.geojson")


@pytest.fixture
def runner():
    return CliRunner()


def google_earth_kml(path: Path, n: int = 21) -> Path:
    """A KML as Google Earth saves it: placemarks with a name, a description, a style."""
    placemarks = []
    for i in range(n):
        x, y = 46.90 + 0.002 * (i % 7), 39.98 + 0.002 * (i // 7)
        ring = " ".join(
            f"{px:.6f},{py:.6f},0"
            for px, py in ((x, y), (x + 0.001, y), (x + 0.001, y + 0.001), (x, y + 0.001), (x, y))
        )
        placemarks.append(
            f"""<Placemark><name>Task {i + 1}</name>
<description>Cleared 19.02.2024</description><styleUrl>#cleared</styleUrl>
<Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing>
<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"""
        )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
        "<Document><name>cleared.kml</name>"
        '<Style id="cleared"><PolyStyle><color>7f00ff00</color></PolyStyle></Style>'
        "<Folder><name>Cleared February</name>"
        + "\n".join(placemarks)
        + "</Folder></Document></kml>",
        encoding="utf-8",
    )
    return path


# --- kind guessing (issue 13 item 7) ------------------------------------------------


def test_a_google_earth_kml_is_never_guessed_as_districts(runner, tmp_path):
    path = google_earth_kml(tmp_path / "cleared.kml")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "cleared.kml: districts" not in result.stderr
    assert f"cannot tell what kind of layer {path} is" in result.stderr
    assert "give --kind" in result.stderr
    assert "Traceback" not in result.output


def test_the_guess_is_said_with_its_reason(runner):
    result = runner.invoke(main, ["validate", HAZARDS, DISTRICTS])
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if "guessed" in line]
    hazards = next(line for line in said if "small_hazards.geojson" in line)
    assert "hazards" in hazards
    assert "hazard_id" in hazards
    assert "mines_ap" in hazards
    assert "--kind" in hazards
    districts = next(line for line in said if "small_districts.geojson" in line)
    assert "districts" in districts


def test_a_file_with_only_an_id_is_not_guessed(runner, tmp_path):
    path = tmp_path / "ids.geojson"
    gpd.GeoDataFrame(
        {"ID": ["A1", "A2"]},
        geometry=gpd.GeoSeries.from_wkt(
            ["POLYGON ((46.9 39.98, 46.91 39.98, 46.91 39.99, 46.9 39.98))"] * 2
        ),
        crs="EPSG:4326",
    ).to_file(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "cannot tell what kind of layer" in result.stderr


def test_names_nobody_knows_are_not_guessed_as_districts(runner, tmp_path):
    path = tmp_path / "areas.geojson"
    gpd.GeoDataFrame(
        {"Name": ["North field", "Orchard"]},
        geometry=gpd.GeoSeries.from_wkt(
            ["POLYGON ((46.9 39.98, 46.91 39.98, 46.91 39.99, 46.9 39.98))"] * 2
        ),
        crs="EPSG:4326",
    ).to_file(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "cannot tell what kind of layer" in result.stderr


# --- --map (issue 13 item 7) --------------------------------------------------------


def test_a_map_error_names_the_file(runner, tmp_path):
    hz = gpd.read_file(HAZARDS)
    path = tmp_path / "hz.geojson"
    hz.to_file(path)
    result = runner.invoke(
        main,
        ["remaining", "--hazards", str(path), "--releases", RELEASES, "--map", "mines_ap=AP_X"],
    )
    assert result.exit_code == 1, result.output
    error = next(line for line in result.stderr.splitlines() if "AP_X" in line)
    assert str(path) in error
    assert "Traceback" not in result.output


def test_mapping_an_optional_column_a_file_lacks_is_no_error(runner, tmp_path):
    hz = gpd.read_file(HAZARDS).rename(columns={s.SOURCE: "Menbe"})
    with_it, without = tmp_path / "with.geojson", tmp_path / "without.geojson"
    hz.to_file(with_it)
    hz.drop(columns="Menbe").to_file(without)
    for path in (with_it, without):
        result = runner.invoke(
            main,
            ["remaining", "--hazards", str(path), "--releases", RELEASES, "--map", "source=Menbe"],
        )
        assert result.exit_code == 0, result.output
