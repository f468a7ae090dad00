"""`minemap report` and minemap.report: headline figures, table, chart, escaping."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from minemap import schema as s
from minemap.cli import main
from minemap.report import build_report, released_by_month, released_chart_svg
from tests.test_render import BREAKOUT, EVIL, TEMPLATE, make_scene, render_scene

DATA = Path(__file__).parent / "data"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
DISTRICTS = str(DATA / "small_districts.geojson")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def scene() -> dict:
    return make_scene()


def _inputs(*extra):
    return ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", DISTRICTS, *extra]


# --- build_report ------------------------------------------------------------------


def test_headline_figures_known_answer():
    table = pd.DataFrame(
        {
            s.DISTRICT: ["A", "B"],
            s.MAPPED_AREA_HA: [10.0, 30.0],
            s.RELEASED_AREA_HA: [4.0, 6.0],
            s.REMAINING_AREA_HA: [6.0, 24.0],
            s.MAPPED_MINES: [100, 50],
            s.REMAINING_MINES_EST: [60.0, 40.0],
            s.SHARE_RELEASED: [0.4, 0.2],
        }
    )
    page = build_report(table, title="T")
    headline = re.search(r'<div class="headline">(.*?)</div></div>\n', page, re.S).group(1)
    for value in ("40.0 ha", "10.0 ha", "30.0 ha", "150", "100"):
        assert f'<div class="value">{value}</div>' in headline, value
    total = re.search(r'<tr class="total">(.*?)</tr>', page).group(1)
    assert "40.0 ha" in total
    assert "25.0 %" in total  # 10 of 40 ha released overall


def test_table_and_title_escaped(scene):
    table = scene["table"]
    page = build_report(table, title=f"{EVIL}{BREAKOUT}{TEMPLATE}")
    assert EVIL not in page
    assert "<script>alert" not in page
    assert html.escape(EVIL) in page  # the district named with HTML, as text
    assert f"<h1>{html.escape(EVIL + BREAKOUT)}{TEMPLATE}</h1>" in page
    assert "49" not in re.search(r"<h1>(.*?)</h1>", page).group(1)
    assert "<script" not in page.lower()


def test_chart_released_by_month(scene):
    by_month = released_by_month(scene["hazards"], scene["releases"])
    assert str(by_month.index[0]) == "2021-05"
    assert str(by_month.index[-1]) == "2024-06"
    assert (by_month >= 0).all()
    assert by_month[pd.Period("2021-05", "M")] > 0
    assert by_month[pd.Period("2021-06", "M")] == 0
    svg = released_chart_svg(by_month)
    assert svg.startswith("<svg")
    assert svg.count("<rect") == len(by_month)
    assert "<polyline" in svg
    assert "2021-05" in svg
    assert "No release" in released_chart_svg(by_month.iloc[:0])


def test_chart_counts_ground_once_and_matches_the_table():
    """R2 repeats half a hectare of R1 in the next month: 1 + 1.5 ha, as the table says."""
    from minemap import by_district, remaining
    from tests.common import box, hazards, releases

    hz = hazards(box(0, 0, 1000, 100))
    rel = releases(box(0, 0, 100, 100), box(50, 0, 250, 100), dates=["2022-01-03", "2022-02-09"])
    by_month = released_by_month(hz, rel)
    assert list(by_month.index.astype(str)) == ["2022-01", "2022-02"]
    assert by_month.to_list() == pytest.approx([1.0, 1.5], rel=1e-6)
    table = by_district(remaining(hz, rel))
    assert by_month.sum() == pytest.approx(table[s.RELEASED_AREA_HA].sum(), rel=1e-9)
    page = build_report(table, hazards=hz, releases=rel)
    assert "As of 2022-02-09 (latest release)" in page
    assert "As of 2022-01-31" in build_report(table, hazards=hz, releases=rel, as_of="2022-01-31")


def test_chart_of_months_that_released_nothing():
    """Releases outside every hazard: zero bars on a 0-1 ha axis (it once asked for 5e9 ticks)."""
    months = pd.period_range("2022-01", "2022-06", freq="M")
    svg = released_chart_svg(pd.Series(0.0, index=months))
    assert svg.count("<rect") == 6
    assert svg.count('stroke="#ddd"') <= 12


def test_report_embeds_map_and_chart(scene):
    map_page = render_scene(scene, title=f"map {TEMPLATE}").get_root().render()
    page = build_report(
        scene["table"],
        hazards=scene["hazards"],
        releases=scene["releases"],
        map_html=map_page,
        as_of="2024-12-31",
    )
    assert "As of 2024-12-31" in page
    srcdoc = re.search(r"srcdoc='([^']*)'", page).group(1)
    assert html.unescape(srcdoc) == map_page
    assert page.count("<svg") >= 1
    assert "@media print" in page
    assert "@page" in page


def test_as_of_drops_later_releases_from_the_chart(scene):
    page = build_report(
        scene["table"], hazards=scene["hazards"], releases=scene["releases"], as_of="2022-12-31"
    )
    chart = re.search(r'<div class="chart">(<svg.*?</svg>)</div>', page, re.S).group(1)
    assert "2021-05" in chart
    assert "2024-" not in chart


def test_extra_charts(scene):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect/></svg>'
    page = build_report(scene["table"], extra_charts=[(f"Progress {EVIL}", svg)])
    assert f"<h2>Progress {html.escape(EVIL)}</h2>" in page
    assert svg in page
    for bad in (
        "<svg><script>alert(1)</script></svg>",
        '<svg onload="alert(1)"></svg>',
        "<div>not svg</div>",
        '<svg><a href="javascript:alert(1)">x</a></svg>',
    ):
        with pytest.raises(ValueError, match="plain <svg>"):
            build_report(scene["table"], extra_charts=[("c", bad)])


def test_extra_chart_text_is_not_markup():
    """Text that only reads like markup (a district's name, escaped) is allowed."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><g clip-path="url(#p1)">'
        f"<text>{html.escape(EVIL)} javascript: onload=1</text><use xlink:href='#m1'/></g></svg>"
    )
    assert svg in build_report(pd.DataFrame({s.DISTRICT: []}), extra_charts=[("c", svg)])


@pytest.mark.parametrize(
    "bad",
    [
        "<svg><style><img src=x onerror=alert(1)></style></svg>",  # parsed as markup in SVG
        '<svg><rect title="a>b" onload="alert(1)"/></svg>',
        "<svg/onload=alert(1)>",
        '<svg><?x a="> <img src=x onerror=alert(1)>"?></svg>',
        "<svg></p><img src=x onerror=alert(1)></svg>",
        "<svg><!-- --!><img src=x onerror=alert(1)> --></svg>",
        '<svg><a href="&#106;avascript:alert(1)">x</a></svg>',
        '<svg><image href="http://tile.example.org/x.png"/></svg>',
        '<svg><rect style="fill:url(http://tile.example.org/x)"/></svg>',
        "<svg><style>@import url(http://tile.example.org/y.css);</style></svg>",
        "<svg><foreignObject><div>x</div></foreignObject></svg>",
        "<svg><SCRIPT>alert(1)</SCRIPT></svg>",
        "<svg></svg><![CDATA[<img src=x onerror=alert(1)>]]>",
    ],
)
def test_extra_chart_markup_that_would_run_or_load_is_refused(scene, bad):
    with pytest.raises(ValueError, match="plain <svg>"):
        build_report(scene["table"], extra_charts=[("c", bad)])


def test_report_command_with_html_and_mathtext_in_district_names(runner, tmp_path):
    """District names reach the table, the map and the progress charts as text only."""
    import geopandas as gpd

    districts = gpd.read_file(DISTRICTS)
    districts["district"] = [EVIL, "$\\frac{1}$ Aghdam"]
    path = tmp_path / "districts.geojson"
    districts.to_file(path)
    out = tmp_path / "report.html"
    args = ["report", "--hazards", HAZARDS, "--releases", RELEASES, "--districts", str(path)]
    result = runner.invoke(main, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert EVIL not in page.split("srcdoc=")[0]
    assert page.count(f"<td>{html.escape(EVIL)}</td>") == 1
    assert "$\\frac{1}$ Aghdam" in page


# --- the command ---------------------------------------------------------------------


def test_report_command_writes_one_self_contained_page(runner, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(main, ["report", *_inputs("-o", str(out), "--title", f"W {EVIL}")])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert f"W {html.escape(EVIL)}" in page
    assert "<script src=" not in page
    assert "srcdoc=" in page
    assert "Headline figures" in page
    assert "By district" in page
    # The progress charts (issue 6) are inlined as SVG, without their XML prologue.
    assert "(burn-down), ground counted once" in page
    assert page.count("<svg") >= 4
    assert "<?xml" not in page


def test_report_command_refuses_to_overwrite(runner, tmp_path):
    out = tmp_path / "report.html"
    out.write_text("keep")
    result = runner.invoke(main, ["report", *_inputs("-o", str(out))])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "exists" in result.output
    assert out.read_text() == "keep"
    result = runner.invoke(main, ["report", *_inputs("-o", str(out), "--overwrite")])
    assert result.exit_code == 0, result.output


def test_report_command_public(runner, tmp_path):
    out = tmp_path / "public.html"
    result = runner.invoke(main, ["report", *_inputs("-o", str(out), "--public")])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "minemap-grid" in page
    assert "minemap-hazard" not in page


# --- `minemap map` options of this issue ---------------------------------------------


def test_map_command_public_and_tiles(runner, tmp_path):
    out = tmp_path / "map.html"
    url = "https://tile.example.org/{z}/{x}/{y}.png"
    result = runner.invoke(main, ["map", *_inputs("-o", str(out), "--public", "--tiles", url)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert url in page
    assert "minemap-grid" in page
    assert "minemap-hazard" not in page


def test_map_command_bad_tiles_is_one_line(runner, tmp_path):
    out = tmp_path / "map.html"
    result = runner.invoke(main, ["map", *_inputs("-o", str(out), "--tiles", "x/{{ 7*7 }}")])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "tile URL" in result.output


def test_map_and_report_when_every_hazard_is_rejected(runner, tmp_path):
    """Nothing left to draw is an empty map and a report of zeros, not a traceback."""
    import geopandas as gpd

    hazards = gpd.read_file(HAZARDS)
    hazards["mines_ap"] = -1  # every record rejected
    path = tmp_path / "hazards.geojson"
    hazards.to_file(path)
    for command, name in (("map", "map.html"), ("report", "report.html")):
        out = tmp_path / name
        args = [command, "--hazards", str(path), "--releases", RELEASES, "--districts", DISTRICTS]
        args += ["-o", str(out), "--rejects", str(tmp_path / f"rejects-{command}.csv")]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")
