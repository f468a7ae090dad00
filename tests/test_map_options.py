"""Options of `minemap map` / `minemap report` that take text or numbers from the user.

``--tiles`` is checked as a URL template and reaches the page as data, never
through a template engine; the map's attribution comes from the districts layer
(or ``--attribution``); a map too large to open comfortably says so.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from minemap.cli import main
from minemap.render import render_map
from minemap.render.map import check_tile_url
from tests.test_cli import DISTRICTS, HAZARDS, RELEASES
from tests.test_render import make_scene, render_scene


@pytest.fixture
def runner():
    return CliRunner()


def _inputs(*extra):
    return ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", DISTRICTS, *extra]


# --- --tiles ---------------------------------------------------------------------

GOOD_TILES = [
    "https://tile.example.org/{z}/{x}/{y}.png",
    "https://{s}.tile.example.org/{z}/{x}/{y}.png",
    "http://localhost:8080/tiles/{z}/{y}/{x}?key=a%7B%23b&style=dark#x",
    "HTTPS://Tile.Example.org/wmts/{z}/{x}/{y}",
]
BAD_TILES = {
    "x/{{ 7*7 }}": "http:// or https://",
    "https://t.example.org/{z}/{x}/{y}.png{#": "braces",
    "https://t.example.org/{z}/{x}/{y}.png?{# gone #}": "braces",
    "https://t.example.org/{z}/{x}/{y}.png?{{ 7*7 }}": "braces",
    "https://t.example.org/{z}/{x}/{y}.png?{% if 1 %}x{% endif %}": "braces",
    "https://t.example.org/{z}/{x}/{y}/{r}.png": "braces",
    "https://t.example.org/{ z }/{x}/{y}.png": "braces",
    "https://t.example.org/${z}/{x}/{y}.png}": "braces",
    "https://t.example.org/{z}/{x}.png": "{y}",
    "https://t.example.org/tiles.png": "{z}",
    "ftp://t.example.org/{z}/{x}/{y}.png": "http:// or https://",
    "javascript:alert(1)//{z}/{x}/{y}": "http:// or https://",
    "file:///etc/{z}/{x}/{y}": "http:// or https://",
    "data:text/html,{z}{x}{y}": "http:// or https://",
    "//t.example.org/{z}/{x}/{y}.png": "http:// or https://",
    "https:///{z}/{x}/{y}.png": "host",
    "https://user:secret@t.example.org/{z}/{x}/{y}.png": "user name or password",
    "https://t.example.org/{z}/{x}/{y}.png\n": "space, quote or control character",
    'https://t.example.org/{z}/{x}/{y}.png"onload="x': "space, quote or control character",
    "https://t.example.org/{z}/{x}/{y} .png": "space, quote or control character",
    "https://t.example.org:99999/{z}/{x}/{y}.png": "port",
    "https://t.example.org/" + "a" * 3000 + "/{z}/{x}/{y}.png": "long",
}


@pytest.mark.parametrize("url", GOOD_TILES)
def test_tile_templates_accepted(url):
    assert check_tile_url(url) == url


@pytest.mark.parametrize("url", list(BAD_TILES))
def test_tile_templates_refused(url):
    with pytest.raises(ValueError, match="tile URL") as caught:
        check_tile_url(url)
    assert BAD_TILES[url] in str(caught.value)
    assert len(str(caught.value)) < 400  # a long URL is shortened in the message


@pytest.mark.parametrize("url", list(BAD_TILES))
def test_render_map_refuses_bad_tiles(url):
    with pytest.raises(ValueError, match="tile URL"):
        render_scene(make_scene(evil=False), tiles=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://t.example.org/{z}/{x}/{y}.png{#",
        "https://t.example.org/{z}/{x}/{y}.png?{# gone #}",
        "https://t.example.org/{z}/{x}/{y}.png?{% raw %}",
        "ftp://t.example.org/{z}/{x}/{y}.png",
    ],
)
@pytest.mark.parametrize("command", ["map", "report"])
def test_bad_tiles_are_a_usage_error_of_one_line(runner, tmp_path, command, url):
    out = tmp_path / "out.html"
    result = runner.invoke(main, [command, *_inputs("-o", str(out), "--tiles", url)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "--tiles" in result.stderr
    assert "tile URL" in result.stderr
    assert not out.exists()
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _tile_call(page: str) -> tuple[str, dict]:
    match = re.search(r"L\.tileLayer\((\".*?\"), (\{.*?\})\);", page)
    assert match, "no L.tileLayer call"
    return json.loads(match.group(1)), json.loads(match.group(2))


@pytest.mark.parametrize("url", GOOD_TILES)
def test_tile_url_reaches_the_page_as_data(url):
    page = render_scene(make_scene(evil=False), tiles=url).get_root().render()
    given, options = _tile_call(page)
    assert given == url
    assert "Base map: " in options["attribution"]
    assert "{s}" not in options["attribution"]


def test_tile_url_from_the_command_line_reaches_the_page_unchanged(runner, tmp_path):
    out = tmp_path / "map.html"
    url = GOOD_TILES[2]
    result = runner.invoke(main, ["map", *_inputs("-o", str(out), "--tiles", url)])
    assert result.exit_code == 0, result.output
    assert _tile_call(out.read_text(encoding="utf-8"))[0] == url


def test_no_tiles_no_tile_layer():
    page = render_map(make_scene(evil=False)["remaining"]).get_root().render()
    assert "L.tileLayer" not in page


# --- a map too large to open comfortably -------------------------------------------


def _warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "browsers open" in line]


@pytest.mark.parametrize("command", ["map", "report"])
def test_large_page_warns_with_its_size_and_the_remedy(runner, tmp_path, monkeypatch, command):
    import minemap.render.map as render_map_module

    monkeypatch.setattr(render_map_module, "LARGE_MAP_BYTES", 50_000)
    out = tmp_path / "out.html"
    result = runner.invoke(main, [command, *_inputs("-o", str(out))])
    assert result.exit_code == 0, result.output
    (line,) = _warning_lines(result.stderr)
    size = out.stat().st_size
    assert f"{size / 1e6:,.1f} MB" in line
    assert str(out) in line
    assert "--public" in line
    assert "over 0.05 MB" in line  # the threshold, so the user knows what "large" means


def test_large_public_map_does_not_suggest_public(runner, tmp_path, monkeypatch):
    import minemap.render.map as render_map_module

    monkeypatch.setattr(render_map_module, "LARGE_MAP_BYTES", 10_000)
    out = tmp_path / "out.html"
    result = runner.invoke(main, ["map", *_inputs("-o", str(out), "--public")])
    assert result.exit_code == 0, result.output
    (line,) = _warning_lines(result.stderr)
    assert "--public" not in line


@pytest.mark.parametrize("command", ["map", "report"])
def test_ordinary_page_no_size_warning(runner, tmp_path, command):
    out = tmp_path / "out.html"
    result = runner.invoke(main, [command, *_inputs("-o", str(out))])
    assert result.exit_code == 0, result.output
    assert _warning_lines(result.stderr) == []


def test_large_map_threshold_is_documented():
    from pathlib import Path

    from minemap.render.map import LARGE_MAP_BYTES

    doc = (Path(__file__).parent.parent / "docs" / "map.md").read_text(encoding="utf-8")
    assert f"{LARGE_MAP_BYTES / 1e6:g} MB" in doc


# --- attribution of the district boundaries ----------------------------------------

OCHA = "Boundaries: OCHA COD-AB Azerbaijan (HDX), CC BY-IGO 3.0"


def _district_attribution(page: str) -> str | None:
    """The ``attribution`` option of the districts layer, as the page passes it to Leaflet."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r', \{"styles":', page):
        options, _ = decoder.raw_decode(page, match.start() + 2)
        if options["className"] == "minemap-district":
            return options["attribution"]
    raise AssertionError("no district layer")


def _districts_with(tmp_path, attribution=None, name="districts.geojson"):
    import geopandas as gpd

    districts = gpd.read_file(DISTRICTS)
    if attribution is not None:
        districts["attribution"] = attribution
    path = tmp_path / name
    districts.to_file(path)
    return path


def test_attribution_comes_from_the_districts_layer():
    scene = make_scene(evil=False)
    districts = scene["districts"].assign(attribution=OCHA)
    page = render_map(scene["remaining"], scene["table"], districts=districts).get_root().render()
    assert _district_attribution(page) == OCHA
    assert "geoBoundaries" not in page


def test_no_attribution_when_the_districts_give_none():
    scene = make_scene(evil=False)
    districts = scene["districts"].drop(columns="attribution", errors="ignore")
    page = render_map(scene["remaining"], scene["table"], districts=districts).get_root().render()
    assert _district_attribution(page) is None
    assert "geoBoundaries" not in page


def test_attribution_of_several_sources_and_blank_ones():
    scene = make_scene(evil=False)
    districts = scene["districts"].assign(attribution=[OCHA, None, "Boundaries: GADM 4.1"])
    page = render_map(scene["remaining"], scene["table"], districts=districts).get_root().render()
    assert _district_attribution(page) == f"{OCHA}; Boundaries: GADM 4.1"


def test_attribution_is_escaped_and_bounded():
    scene = make_scene(evil=False)
    many = [f"<b>source {i}</b> " + "x" * 5000 for i in range(3)]
    districts = scene["districts"].assign(attribution=many)
    page = render_map(scene["remaining"], scene["table"], districts=districts).get_root().render()
    text = _district_attribution(page)
    assert "<b>" not in text
    assert "&lt;b&gt;source 0&lt;/b&gt;" in text
    assert len(text) < 1200


def test_attribution_argument_wins():
    scene = make_scene(evil=False)
    districts = scene["districts"].assign(attribution=OCHA)
    page = (
        render_map(scene["remaining"], districts=districts, attribution="Made by us, CC0")
        .get_root()
        .render()
    )
    assert _district_attribution(page) == "Made by us, CC0"
    assert "OCHA" not in page


@pytest.mark.parametrize("command", ["map", "report"])
def test_attribution_from_the_districts_file(runner, tmp_path, command):
    districts = _districts_with(tmp_path, OCHA)
    out = tmp_path / "out.html"
    args = ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", str(districts)]
    result = runner.invoke(main, [command, *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "OCHA COD-AB Azerbaijan (HDX), CC BY-IGO 3.0" in page
    assert "geoBoundaries" not in page


def test_attribution_from_a_shapefile_column_cut_to_ten_characters(runner, tmp_path):
    import warnings

    import geopandas as gpd

    districts = gpd.read_file(DISTRICTS).assign(attribution=OCHA)
    path = tmp_path / "districts.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the column name is cut to 'attributio'
        districts.to_file(path)
    out = tmp_path / "out.html"
    args = ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", str(path)]
    result = runner.invoke(main, ["map", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _district_attribution(out.read_text(encoding="utf-8")) == OCHA


@pytest.mark.parametrize("command", ["map", "report"])
def test_attribution_option(runner, tmp_path, command):
    districts = _districts_with(tmp_path, OCHA)
    out = tmp_path / "out.html"
    args = ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", str(districts)]
    result = runner.invoke(
        main, [command, *args, "-o", str(out), "--attribution", "Boundaries: <ours>, CC0"]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "OCHA" not in page
    # escaped for Leaflet's innerHTML, then made script-safe (& as \u0026)
    assert "Boundaries: \\u0026lt;ours\\u0026gt;, CC0" in page


def test_districts_without_attribution_say_how_to_give_one(runner, tmp_path):
    districts = _districts_with(tmp_path)
    out = tmp_path / "out.html"
    args = ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", str(districts)]
    result = runner.invoke(main, ["map", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "--attribution" in result.stderr
    assert "geoBoundaries" not in out.read_text(encoding="utf-8")


def test_demo_credits_geoboundaries(demo_outputs):
    for name in ("map", "report"):
        page = demo_outputs[name].read_text(encoding="utf-8")
        assert "geoBoundaries" in page, name
        assert "CC BY-SA 3.0" in page, name


def test_the_sample_districts_carry_their_attribution():
    from minemap import datasets
    from minemap import schema as s

    districts = datasets.districts()
    credit = (
        "Boundaries: geoBoundaries (www.geoboundaries.org), Azerbaijan ADM2, CC BY-SA 3.0, "
        "derived from Wikipedia; subset and renamed by minemap"
    )
    assert set(districts[s.ATTRIBUTION]) == {credit}
