"""`minemap report` on paper: a real A4 PDF, the day it refers to, no map controls.

``report -o x.pdf`` wrote the HTML page under a ``.pdf`` name; now it prints the
same page to A4 with Chromium (through playwright), or refuses before any work.
The page's print stylesheet hides the map's controls and fits the map to the page.
"""

from __future__ import annotations

import datetime as dt
import re
import sys

import pytest
from click.testing import CliRunner

from minemap.cli import main
from tests.test_cli import DISTRICTS, HAZARDS, RELEASES
from tests.test_map_browser import _TWO_FRAMES, _open_recorded

#: A4 in PDF points, and the report's printable area (A4 less its @page margins,
#: 14 mm top and bottom, 12 mm left and right) in CSS pixels.
A4_POINTS = (595.28, 841.89)
A4_CONTENT_PX = (round((210 - 24) / 25.4 * 96), round((297 - 28) / 25.4 * 96))
CREDIT = "Boundaries: made up for the print tests, CC0"
#: What the map shows on screen only: zoom, layer control, search, slider, full
#: screen, measure.
CONTROLS = (
    ".leaflet-control-zoom",
    ".leaflet-control-layers",
    ".minemap-search",
    ".minemap-timeline",
    ".minemap-fullscreen",
    ".minemap-measure",
)
#: What the printed map keeps: title, legend, scale and the boundaries' credit.
KEPT = (
    ".minemap-title",
    ".minemap-legend",
    ".leaflet-control-scale",
    ".leaflet-control-attribution",
)


def _inputs(*extra):
    return ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", DISTRICTS, *extra]


# --- refused before any work --------------------------------------------------------


def test_pdf_without_chromium_is_refused_before_any_work(tmp_path):
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(
        main,
        ["report", *_inputs("-o", str(out))],
        env={"MINEMAP_CHROMIUM": str(tmp_path / "no-such-browser")},
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 3, lines  # click's usage lines, then the one reason
    assert "PDF" in lines[-1]
    assert "Chromium" in lines[-1]
    assert "read" not in result.stderr  # no file was read: refused before any work
    assert not out.exists()


def test_pdf_without_playwright_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright", None)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(main, ["report", *_inputs("-o", str(out))])
    assert result.exit_code == 2, result.output
    assert "minemap[pdf]" in result.stderr
    assert "read" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["report.docx", "report.png", "report"])
def test_report_refuses_formats_it_cannot_write(tmp_path, name):
    out = tmp_path / name
    result = CliRunner().invoke(main, ["report", *_inputs("-o", str(out))])
    assert result.exit_code == 2, result.output
    assert ".html" in result.stderr
    assert ".pdf" in result.stderr
    assert not out.exists()


def test_existing_pdf_is_not_replaced_without_overwrite(tmp_path):
    out = tmp_path / "report.pdf"
    out.write_bytes(b"%PDF-1.4 someone else's")
    result = CliRunner().invoke(main, ["report", *_inputs("-o", str(out))])
    assert result.exit_code != 0
    assert out.read_bytes() == b"%PDF-1.4 someone else's"


# --- the day the figures refer to ---------------------------------------------------


def test_report_prints_the_day_known_on_from_a_workspace(tmp_path):
    runner = CliRunner()
    workspace = tmp_path / "ws.gpkg"
    assert runner.invoke(main, ["init", str(workspace)]).exit_code == 0
    for kind, path in (("districts", DISTRICTS), ("hazards", HAZARDS), ("releases", RELEASES)):
        result = runner.invoke(main, ["add", kind, str(workspace), path, "--source", "team A"])
        assert result.exit_code == 0, result.output
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    out = tmp_path / "report.html"
    result = runner.invoke(
        main, ["report", "--workspace", str(workspace), "--known-on", today, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    subtitle = re.search(r'<p class="subtitle">(.*?)</p>', page).group(1)
    assert f"as known on {today}" in subtitle
    assert "As of " in subtitle
    # and in the map's title box
    assert f"as known on {today}" in page.split("srcdoc=", 1)[1]


def test_report_without_workspace_does_not_say_known_on(tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", *_inputs("-o", str(out))])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "known on" not in page
    assert re.search(r'<p class="subtitle">As of \d{4}-\d\d-\d\d', page)


def test_report_without_releases_still_says_as_of(tmp_path):
    from minemap.report import build_report
    from tests.test_render import make_scene

    page = build_report(make_scene(evil=False)["table"], releases=None)
    subtitle = re.search(r'<p class="subtitle">(.*?)</p>', page).group(1)
    assert subtitle.startswith("As of ")


# --- printed --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def printed(chromium_path, tmp_path_factory):
    """The same report as HTML and as PDF (``minemap report -o x.pdf``)."""
    folder = tmp_path_factory.mktemp("print")
    runner = CliRunner()
    outputs = {}
    for suffix in ("html", "pdf"):
        out = folder / f"report.{suffix}"
        result = runner.invoke(
            main,
            ["report", *_inputs("-o", str(out), "--attribution", CREDIT)],
            env={"MINEMAP_CHROMIUM": chromium_path},
        )
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        outputs[suffix] = out
    return outputs


@pytest.mark.browser
def test_report_pdf_is_an_a4_pdf_with_the_headline_figures(printed, shots):
    from pypdf import PdfReader

    data = printed["pdf"].read_bytes()
    (shots / "report-small.pdf").write_bytes(data)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(printed["pdf"])
    assert 2 <= len(reader.pages) <= 4  # figures and table, charts, the map on its own page
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(A4_POINTS[0], abs=1)
        assert float(page.mediabox.height) == pytest.approx(A4_POINTS[1], abs=1)
    text = " ".join(page.extract_text() for page in reader.pages)
    text = re.sub(r"\s+", " ", text)
    html_page = printed["html"].read_text(encoding="utf-8")
    figures = re.findall(r'<div class="value">(.*?)</div>', html_page)
    assert len(figures) == 5
    for figure in figures:
        assert figure in text, figure
    subtitle = re.search(r'<p class="subtitle">(.*?)</p>', html_page).group(1).split(" · ")[0]
    assert subtitle in text
    assert "Aghdam" in text
    assert "Fuzuli" in text
    # The map page was printed from its frame: its credit, not its controls.
    assert CREDIT in text
    for control_text in ("Full screen", "Measure", "Time slider", "Released land Remaining"):
        assert control_text not in text, control_text


_RECORDS_INSIDE = """() => {
    const shapes = document.querySelectorAll("path.minemap-hazard, path.minemap-release");
    return shapes.length > 0 && [...shapes].every(e => {
        const r = e.getBoundingClientRect();
        return r.left >= -0.5 && r.top >= -0.5 && r.right <= window.innerWidth + 0.5
            && r.bottom <= window.innerHeight + 0.5;
    });
}"""


def _print_view(browser, path, shots, name):
    """The report laid out for print on the A4 page's printable area, as Chromium prints it."""
    context, page, seen = _open_recorded(browser, path.as_uri())
    frame = page.frame_locator(".map iframe")
    frame.locator("path.minemap-hazard").first.wait_for(state="attached")
    # Printed from the browser: the page had been opened on a screen first.
    page.set_viewport_size({"width": A4_CONTENT_PX[0], "height": A4_CONTENT_PX[1]})
    page.emulate_media(media="print")
    # The map refits to its printed frame on an animation frame after the change: wait
    # for its records to be drawn inside the frame (the test then checks each of them).
    inner = page.locator(".map iframe").element_handle().content_frame()
    inner.evaluate(_TWO_FRAMES)
    inner.wait_for_function(_RECORDS_INSIDE)
    page.screenshot(path=str(shots / name), full_page=True)
    return context, page, frame, seen


@pytest.mark.browser
def test_printed_report_hides_the_map_controls_and_fits_the_map(browser, printed, shots):
    context, page, frame, seen = _print_view(browser, printed["html"], shots, "report-print.png")
    for selector in CONTROLS:
        assert frame.locator(selector).count() == 1, selector
        assert frame.locator(selector).is_hidden(), selector
    for selector in KEPT:
        assert frame.locator(selector).is_visible(), selector
    assert CREDIT in frame.locator(".leaflet-control-attribution").inner_text()
    box = page.locator(".map iframe").bounding_box()
    assert box["width"] <= A4_CONTENT_PX[0] + 0.5
    assert box["height"] <= A4_CONTENT_PX[1] + 0.5
    # Every record drawn is inside the map's frame: the map was fitted to its printed
    # size. (Districts reach beyond it: the map is fitted to the records.)
    container = frame.locator(".leaflet-container").bounding_box()
    assert container["width"] <= box["width"] + 0.5
    shapes = frame.locator("path.minemap-hazard, path.minemap-release").evaluate_all(
        """els => els.map(e => { const r = e.getBoundingClientRect();
                 return [r.left, r.top, r.right, r.bottom]; })"""
    )
    inner = frame.locator("body").evaluate("b => [window.innerWidth, window.innerHeight]")
    assert shapes
    for left, top, right, bottom in shapes:
        assert left >= -0.5, left
        assert top >= -0.5, top
        assert right <= inner[0] + 0.5, (right, inner)
        assert bottom <= inner[1] + 0.5, (bottom, inner)
    assert seen["errors"] == []
    context.close()


@pytest.mark.browser
def test_printed_map_page_hides_its_controls(browser, tmp_path, shots):
    out = tmp_path / "map.html"
    result = CliRunner().invoke(main, ["map", *_inputs("-o", str(out))])
    assert result.exit_code == 0, result.output
    context, page, seen = _open_recorded(browser, out.as_uri())
    page.wait_for_selector("path.minemap-hazard", state="attached")
    page.emulate_media(media="print")
    page.screenshot(path=str(shots / "map-print.png"))
    for selector in CONTROLS:
        assert page.locator(selector).is_hidden(), selector
    for selector in KEPT:
        assert page.locator(selector).is_visible(), selector
    page.emulate_media(media="screen")
    for selector in CONTROLS:
        assert page.locator(selector).is_visible(), selector
    assert seen["errors"] == []
    context.close()
