"""The map's own script and stylesheet (minemap/render/static): shipped, inlined, tied to Python.

The JSON keys the script reads are named once in ``minemap.render.protocol``;
these tests hold the script, its header comment and that table together, and
check that a built wheel carries the files and runs ``minemap demo``.
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import typing
import zipfile
from importlib import resources
from pathlib import Path

import pytest

import minemap
from minemap.render import MapOptions, render_map
from minemap.render import protocol as p
from minemap.render.offline import _script_text, _style_text, minemap_css, minemap_js
from tests.test_render import make_scene, render_scene

ROOT = Path(__file__).resolve().parent.parent
STATIC = resources.files("minemap.render").joinpath("static")


def _script() -> str:
    return STATIC.joinpath("minemap.js").read_text(encoding="utf-8")


def _header_and_body(script: str) -> tuple[str, str]:
    """The script's leading comment block, and the code after it."""
    match = re.match(r"\s*/\*(.*?)\*/(.*)", script, re.S)
    assert match, "minemap.js starts with a comment block describing its data"
    return match.group(1), match.group(2)


def _normalised(m) -> str:
    """A rendered page with folium's random element ids numbered in order of appearance."""
    ids: dict[str, str] = {}
    return re.sub(
        r"_[0-9a-f]{32}\b",
        lambda hit: ids.setdefault(hit.group(0), f"_id{len(ids)}"),
        m.get_root().render(),
    )


@pytest.fixture(scope="module")
def scene() -> dict:
    return make_scene()


@pytest.fixture(scope="module")
def page(scene) -> str:
    return render_scene(scene).get_root().render()


# --- shipped and inlined ----------------------------------------------------------


def test_static_files_are_read_from_the_package_and_inlined(page):
    assert "window.minemap = (function (K) {" in minemap_js()
    assert minemap_js() == _script()
    assert ".minemap-tip" in minemap_css()
    assert minemap_js() in page
    assert minemap_css() in page
    # the script arrives with its key table, and loads nothing
    table = re.search(r"var MINEMAP_FEATURE_KEYS = (\{.*?\});\n", page).group(1)
    assert json.loads(table) == p.FEATURE_KEYS.as_json()
    assert page.index(table) < page.index(minemap_js())


@pytest.mark.parametrize("bad", ["a = '</script>';", "a = '</SCRIPT';", "<!-- x"])
def test_a_script_that_would_end_its_element_is_refused(bad):
    with pytest.raises(RuntimeError, match=r"x\.js"):
        _script_text(bad, "x.js")


def test_a_stylesheet_that_would_end_its_element_is_refused():
    with pytest.raises(RuntimeError, match=r"x\.css"):
        _style_text("a { content: '</style>' }", "x.css", lambda name: b"")
    assert _style_text(".a{background:url(i.png)}", "x.css", lambda name: b"PNG") == (
        '.a{background:url("data:image/png;base64,UE5H")}'
    )


def test_the_script_builds_no_html_and_evaluates_nothing():
    """What the linter refuses, checked without npm too (SECURITY.md)."""
    _, code = _header_and_body(_script())
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code, sink
    assert "new Function" not in code
    assert "textContent" in code
    # Lookup tables keyed by text from the data are Maps.
    assert "var index = new Map();" in code


# --- one table of keys for Python and the script ------------------------------------


def test_per_feature_keys_are_one_table_named_on_both_sides():
    header, code = _header_and_body(_script())
    names = [f.name for f in p.FeatureKeys.__dataclass_fields__.values()]
    keys = list(p.FEATURE_KEYS.as_json().values())
    assert len(set(keys)) == len(keys), "two names share a key"
    assert all(re.fullmatch(r"[a-z]", k) for k in keys), "per-feature keys stay one letter"
    documented = set(re.findall(r"\bK\.(\w+)", header))
    used = set(re.findall(r"\bK\.(\w+)", code))
    assert documented == set(names)
    assert used == set(names), "the script reads every per-feature key through the table"
    # ...and never reads a bare one-letter property of a feature or its tooltip
    assert not re.search(r"\b(?:p|t|g|f\.properties)\.[a-z]\b", code)


def _typed_keys(kind) -> set[str]:
    return set(typing.get_type_hints(kind))


def test_named_keys_are_documented_in_the_script_and_used_as_named():
    header, code = _header_and_body(_script())
    specs = (p.LayerOptions, p.LegendItem, p.LegendSection, p.TitleSpec, p.SearchSpec)
    for kind in (*specs, p.TimelineSpec):
        for key in _typed_keys(kind):
            assert re.search(rf"\b{key}\b", header), (kind.__name__, key)
    assert set(re.findall(r"\boptions\.(\w+)", code)) <= _typed_keys(p.LayerOptions)
    spec_keys = _typed_keys(p.TitleSpec) | _typed_keys(p.SearchSpec) | _typed_keys(p.TimelineSpec)
    assert set(re.findall(r"\bspec\.(\w+)", code)) == spec_keys
    assert set(re.findall(r"\bsection\.(\w+)", code)) == _typed_keys(p.LegendSection)
    assert set(re.findall(r"\bitem\.(\w+)", code)) == _typed_keys(p.LegendItem)
    for kind in p.TIME_KINDS:
        assert f'"{kind}"' in header
        assert f'"{kind}"' in code or kind == "hazard"  # the default


def test_features_are_built_with_the_table(page):
    """The page's per-feature keys are exactly the table's (no stray letters)."""
    allowed = set(p.FEATURE_KEYS.as_json().values())
    for match in re.finditer(r"minemap\.geojson\((\{.*?\}), (\{.*?\})\);\n", page):
        data, options = json.loads(match.group(1)), json.loads(match.group(2))
        assert set(options) == _typed_keys(p.LayerOptions)
        for feature in data["features"]:
            assert set(feature) == {"geometry", "properties"}
            assert set(feature["properties"]) <= allowed
            assert set(feature["geometry"]) == {"type", p.FEATURE_KEYS.deltas}
            tip = feature["properties"][p.FEATURE_KEYS.tooltip]
            assert set(tip) == {p.FEATURE_KEYS.heading, p.FEATURE_KEYS.values}


# --- render_map's signature -----------------------------------------------------------


def test_options_and_keywords_draw_the_same_map(scene):
    kwargs = {"title": "Week 12", "as_of": "2023-06-30", "known_on": "2024-01-02"}
    by_keyword = render_map(scene["remaining"], scene["table"], **kwargs)
    by_options = render_map(scene["remaining"], scene["table"], options=MapOptions(**kwargs))
    assert _normalised(by_keyword) == _normalised(by_options)
    assert "As of 2023-06-30, as known on 2024-01-02" in _normalised(by_options)
    # a keyword wins over the same option
    both = render_map(scene["remaining"], options=MapOptions(title="A"), title="B")
    assert (
        json.loads(re.search(r"minemap\.title\(\w+, (\{.*?\})\);", _normalised(both)).group(1))[
            "title"
        ]
        == "B"
    )


def test_public_through_options_hides_the_records(scene):
    page = render_scene(scene, options=MapOptions(public=True)).get_root().render()
    assert "AGM-001" not in page
    assert '"className":"minemap-grid"' in page


def test_unknown_keywords_and_options_are_refused(scene):
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        render_map(scene["remaining"], colour="red")
    with pytest.raises(TypeError, match="MapOptions"):
        render_map(scene["remaining"], options={"title": "x"})
    with pytest.raises(TypeError):
        MapOptions("positional title")  # keyword-only


def test_render_map_has_a_real_signature():
    assert minemap.render_map is render_map
    params = inspect.signature(minemap.render_map).parameters
    assert list(params)[:2] == ["remaining", "table"]
    assert all(
        params[name].kind is inspect.Parameter.KEYWORD_ONLY
        for name in ("hazards", "releases", "districts", "extra_layers", "options", "as_of")
    )
    for option in ("as_of", "title", "tiles", "public", "attribution", "known_on"):
        assert option in params
    assert params["title"].default == "minemap"
    assert "Draw remaining contamination" in minemap.render_map.__doc__


# --- the wheel ------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_carries_the_static_files_and_the_demo_runs_from_it(tmp_path):
    """A built (non-editable) wheel ships the script and stylesheet; `minemap demo` uses them."""
    dist = tmp_path / "dist"
    # From this checkout, with the installed hatchling: nothing fetched.
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), *offline, "--wheel-dir", str(dist)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("minemap-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        shipped = zf.read("minemap/render/static/minemap.js").decode("utf-8")
        zf.extractall(tmp_path / "site")
    for name in (
        "minemap/render/static/minemap.js",
        "minemap/render/static/minemap.css",
        "minemap/render/vendor/leaflet/leaflet.js",
        "minemap/render/vendor/leaflet/leaflet.css",
    ):
        assert name in names, name
    assert shipped == _script()
    assert not any(n.startswith("node_modules/") or n.endswith("package.json") for n in names)

    site, out = tmp_path / "site", tmp_path / "demo"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, minemap; print(minemap.__file__); from minemap.cli import main; main()",
            "demo",
            "-q",
            "-o",
            str(out),
        ],
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(site)), "minemap came from the wheel"
    html = (out / "map.html").read_text(encoding="utf-8")
    assert shipped in html
    assert not re.search(r"<script[^>]*\bsrc\s*=|<link\b", html, re.I)
