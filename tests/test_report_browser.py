"""The demo report in headless Chromium: offline, map embedded, prints on A4."""

from __future__ import annotations

import re

import pytest

from tests.test_map_browser import _open_recorded

pytestmark = pytest.mark.browser

_A4_POINTS = (595, 842)


@pytest.fixture(scope="module")
def report(browser, demo_outputs):
    context, page, seen = _open_recorded(browser, demo_outputs["report"].as_uri())
    page.frame_locator(".map iframe").locator("path.minemap-hazard").first.wait_for(
        state="attached"
    )
    yield page, seen
    context.close()


def test_report_offline_no_errors(report, shots):
    page, seen = report
    assert seen["outside"] == []
    assert seen["errors"] == []
    assert seen["console"] == []
    assert seen["dialogs"] == []
    assert page.locator("h1").inner_text().startswith("Remaining contamination")
    assert page.locator(".headline .figure").count() == 5
    rows = page.locator("table.districts tbody tr")
    assert rows.count() == 14  # 12 districts, unassigned and the total
    assert "Aghdam" in page.locator("table.districts").inner_text()
    assert page.locator(".chart svg rect").count() > 12
    page.screenshot(path=str(shots / "report.png"), full_page=True)
    assert (shots / "report.png").stat().st_size > 10_000


def test_report_map_is_interactive(report):
    page, seen = report
    frame = page.frame_locator(".map iframe")
    assert frame.locator("path.minemap-hazard").count() > 1000
    assert frame.locator(".minemap-legend").is_visible()
    assert frame.locator(".minemap-timeline").count() == 1
    assert seen["errors"] == []


def test_report_prints_to_a_few_a4_pages(report, shots):
    page, _seen = report
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    page.emulate_media(media="screen")
    (shots / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes
    for width, height in boxes:
        assert abs(float(width) - _A4_POINTS[0]) < 2
        assert abs(float(height) - _A4_POINTS[1]) < 2
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 2 <= pages <= 5, pages


def test_report_table_title_captions_and_map_show_text_only(browser, tmp_path, shots):
    """A district, a title and a chart caption that carry HTML reach the report as text."""
    from minemap.report import build_report, write_report
    from tests.test_render import BREAKOUT, EVIL, TEMPLATE, make_scene, render_scene

    scene = make_scene()
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect/></svg>'
    page_html = build_report(
        scene["table"],
        hazards=scene["hazards"],
        releases=scene["releases"],
        map_html=render_scene(scene).get_root().render(),
        title=f"Briefing {EVIL}{BREAKOUT}{TEMPLATE}",
        extra_charts=[(f"Chart {EVIL}", svg)],
    )
    path = write_report(page_html, tmp_path / "evil-report.html")
    context, page, seen = _open_recorded(browser, path.as_uri())
    frame = page.frame_locator(".map iframe")
    frame.locator("path.minemap-hazard").first.wait_for(state="attached")
    page.screenshot(path=str(shots / "escaping-report.png"), full_page=True)
    cells = page.locator("table.districts tbody td:first-child").all_inner_texts()
    assert EVIL in cells
    assert page.locator("h1").inner_text() == f"Briefing {EVIL}{BREAKOUT}{TEMPLATE}"
    assert f"Chart {EVIL}" in page.locator("h2").all_inner_texts()
    assert page.title() == f"Briefing {EVIL}{BREAKOUT}{TEMPLATE}"
    assert page.locator("img").count() == 0
    assert frame.locator("img").count() == 0
    assert frame.locator(".minemap-title-main").inner_text() == "minemap"
    assert seen["dialogs"] == []
    assert seen["errors"] == []
    assert seen["outside"] == []
    context.close()
