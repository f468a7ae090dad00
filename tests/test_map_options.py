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
