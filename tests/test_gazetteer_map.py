"""The map's search finds a district by any of its names (gazetteer and layer columns)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from minemap.cli import main

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def map_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gazetteer_map")
    districts = gpd.read_file(DATA / "small_districts.geojson")
    districts["name_hy"] = ["Ակնա", "Վարանդա"]
    path = folder / "districts.geojson"
    districts.to_file(path)
    out = folder / "m.html"
    result = CliRunner().invoke(
        main,
        [
            *("map", "--hazards", str(DATA / "small_hazards.geojson")),
            *("--releases", str(DATA / "small_releases.geojson")),
            *("--districts", str(path), "-o", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_the_page_carries_every_name_of_a_district(map_file):
    text = map_file.read_text(encoding="utf-8")
    for name in ("Агдамский", "Ağdam", "AZ-AGM", "Ակնա", "Физулинский", "AZ-FUZ"):
        assert name in text or name.encode("unicode_escape").decode() in text, name


@pytest.mark.browser
@pytest.mark.parametrize(
    ("typed", "district"),
    [
        ("Агдам", "Aghdam"),
        ("Агдамский", "Aghdam"),
        ("ağdam", "Aghdam"),
        ("AZ-FUZ", "Fuzuli"),
        ("Füzuli", "Fuzuli"),
        ("Ակնա", "Aghdam"),
        ("varand", "Fuzuli"),
        ("Վարանդա", "Fuzuli"),
    ],
)
def test_search_finds_a_district_by_any_name(browser, map_file, typed, district):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:", "about:", "blob:"))
            else route.abort()
        ),
    )
    page.goto(map_file.as_uri())
    page.wait_for_selector("path.minemap-district", state="attached")
    page.wait_for_selector("path.minemap-hazard", state="attached")
    listed = page.locator("#minemap-search-list option").evaluate_all("os => os.map(o => o.value)")
    assert "Агдам" not in listed  # other names are searched, not listed
    box = page.locator(".minemap-search-input")
    box.fill(typed)
    box.press("Enter")
    page.wait_for_function(
        "(d) => document.querySelector('.leaflet-popup-content')"
        " && document.querySelector('.leaflet-popup-content').textContent.startsWith(d)",
        arg=district,
    )
    assert errors == []
    context.close()


@pytest.mark.browser
def test_an_own_id_comes_before_another_name_of_a_district(browser, tmp_path):
    hazards = gpd.read_file(DATA / "small_hazards.geojson")
    hazards.loc[0, "hazard_id"] = "Agdam"  # also another name of the district Aghdam
    path = tmp_path / "hz.geojson"
    hazards.to_file(path)
    out = tmp_path / "m.html"
    result = CliRunner().invoke(
        main,
        [
            *("map", "--hazards", str(path), "--releases", str(DATA / "small_releases.geojson")),
            *("--districts", str(DATA / "small_districts.geojson"), "-o", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:", "about:", "blob:"))
            else route.abort()
        ),
    )
    page.goto(out.as_uri())
    page.wait_for_selector("path.minemap-hazard", state="attached")
    listed = page.locator("#minemap-search-list option").evaluate_all("os => os.map(o => o.value)")
    assert "Agdam" in listed  # a hazard's own id is listed, though a district's alias too
    box = page.locator(".minemap-search-input")
    box.fill("Agdam")
    box.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.leaflet-popup-content')"
        " && document.querySelector('.leaflet-popup-content').textContent.startsWith('Hazard')",
    )
    context.close()
