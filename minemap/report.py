"""A one-page HTML briefing: headline figures, the district table, a chart, the map.

:func:`build_report` returns one self-contained HTML page (no file or network
request: the chart is inline SVG and the map is embedded with ``srcdoc``) with
a print stylesheet for A4. :func:`write_report` saves it atomically;
:func:`write_report_pdf` prints it to an A4 PDF with Chromium (through
playwright), as a browser would print it.

Security (SECURITY.md): every piece of text that comes from data (district
names, the title, chart captions) is escaped with :func:`html.escape`. The
page is plain string building, never a template, so ``{{ ... }}`` in data is
printed as it is.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap import schema as s
from minemap._arguments import argument
from minemap.errors import PrintUnavailableError
from minemap.render import symbology as sym
from minemap.render._analysis import naive_dates as _naive_dates
from minemap.render.content import TABLE_LABELS as _TABLE_LABELS
from minemap.render.content import format_figure as _format_figure
from minemap.render.content import known_on_text as _known_on_text
from minemap.render.content import unknown_records
from minemap.render.map import _write_text

__all__ = [
    "REPORT_FORMATS",
    "build_report",
    "find_chromium",
    "released_by_month",
    "released_chart_svg",
    "write_report",
    "write_report_pdf",
]

#: What ``minemap report -o`` writes, by extension: the HTML page, or the page printed.
REPORT_FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}

_CSS = """
body { font: 14px/1.45 "Helvetica Neue", Arial, sans-serif; color: #222; margin: 24px auto;
  max-width: 1100px; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 24px 0 8px; border-bottom: 2px solid #C00000; padding-bottom: 3px; }
.subtitle { color: #555; margin: 0 0 16px; }
.headline { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 10px; }
.figure { border: 1px solid #ccc; border-radius: 6px; padding: 8px 10px; background: #fafafa; }
.figure .value { font-size: 22px; font-weight: bold; }
.figure .label { color: #555; font-size: 12px; }
table.districts { border-collapse: collapse; width: 100%; font-size: 13px; }
table.districts th, table.districts td { border-bottom: 1px solid #ddd; padding: 3px 6px; }
table.districts th { text-align: left; background: #f0f0f0; }
table.districts td.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
table.districts tr.total td { font-weight: bold; border-top: 2px solid #888; }
.chart svg { width: 100%; height: auto; max-height: 640px; }
.map iframe { width: 100%; height: 620px; border: 1px solid #999; box-sizing: border-box; }
.note { color: #666; font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  .headline { grid-template-columns: repeat(3, 1fr); }
  table.districts { font-size: 9pt; }
  table.districts tr, .figure, .chart { break-inside: avoid; }
  .chart svg { max-height: 150mm; }
  .map { break-before: page; }
  .map iframe { height: 235mm; }
}
"""

_SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
#: Elements an extra chart may use: SVG drawing elements and the metadata
#: matplotlib writes. Anything else is refused: ``script``, ``foreignObject``,
#: ``a`` and every HTML element (which, inside an ``<svg>`` in an HTML page,
#: ends the SVG and is parsed as HTML).
# fmt: off
_SVG_ELEMENTS = frozenset((
    "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "style", "path", "rect",
    "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textpath", "clippath",
    "mask", "pattern", "marker", "lineargradient", "radialgradient", "stop", "filter",
    "fegaussianblur", "feoffset", "feblend", "fecolormatrix", "feflood", "fecomposite",
    "femerge", "femergenode", "image", "rdf:rdf", "cc:work", "cc:agent", "dc:type", "dc:format",
    "dc:creator", "dc:title", "dc:date", "dc:description",
))
# fmt: on
_ATTRIBUTE_NOISE = re.compile(r"[\s\x00-\x1f]+")
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.I)


class _SvgScan(HTMLParser):
    """Reads SVG markup the way a browser's HTML parser tokenises it, noting problems.

    Text between tags is never a problem (a district named ``<img onerror=...>``
    arrives escaped as ``&lt;img ...``); what counts is which elements and
    attributes the browser would create.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._style = 0

    def set_cdata_mode(self, *args, **kwargs) -> None:
        # Inside <svg>, a browser parses <style> content as markup, not as raw
        # text: stay in markup mode so that a tag hidden there is seen too.
        return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SVG_ELEMENTS:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            clean = _ATTRIBUTE_NOISE.sub("", value or "").lower()
            if name.startswith("on"):
                self.problems.append(f"event handler {name}=")
            if "javascript:" in clean or "@import" in clean:
                self.problems.append(f"{name}={value!r}")
            if name.endswith("href") and not clean.startswith(
                ("#", "data:image/png", "data:image/jpeg")
            ):
                self.problems.append(f"link {name}={value!r} (only #id or an inline image)")
            self._check_css(clean, name)
        if tag == "style":
            self._style += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "style":
            self._style -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in _SVG_ELEMENTS:
            self.problems.append(f"end tag </{tag}>")
        if tag == "style":
            self._style = max(0, self._style - 1)

    def handle_data(self, data: str) -> None:
        if self._style:
            clean = _ATTRIBUTE_NOISE.sub("", data).lower()
            if "@import" in clean or "javascript:" in clean:
                self.problems.append("style sheet imports or scripts")
            self._check_css(clean, "style")

    def handle_comment(self, data: str) -> None:
        # Browsers and html.parser end some malformed comments differently.
        if any(c in data for c in "<>-!"):
            self.problems.append("comment with markup")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("a declaration (<!...>)")

    def unknown_decl(self, data: str) -> None:
        # <![CDATA[...]]> is text inside <svg> but a bogus comment outside it.
        self.problems.append("a CDATA section")

    def handle_pi(self, data: str) -> None:
        self.problems.append("a processing instruction (<?...>)")

    def _check_css(self, text: str, where: str) -> None:
        for target in _CSS_URL.findall(text):
            if not target.startswith(("#", "data:image/")):
                self.problems.append(f"{where}: url({target}) would load a file")


def released_by_month(
    hazards: gpd.GeoDataFrame,
    releases: gpd.GeoDataFrame,
    *,
    as_of: dt.date | str | None = None,
) -> pd.Series:
    """Hazard hectares released each month, ground counted once.

    As :func:`minemap.progress.progress` counts them (district and method
    ``all``): releases in date order each keep only the hazard ground no
    earlier release covered, so the months add up to the district table's
    ``released_area_ha`` total.

    Parameters
    ----------
    hazards, releases
        Submitted hazards and releases (any CRS).
    as_of
        Last day counted; default: the last release.

    Returns
    -------
    pandas.Series
        Released hectares indexed by month (``Period``), every month from the
        first release to the as-of day, zero where nothing was released.

    Examples
    --------
    >>> import minemap as mm
    >>> from minemap import datasets
    >>> hz, rel = datasets.hazards(), datasets.releases()
    >>> by_month = released_by_month(hz, rel)
    >>> total = mm.by_district(mm.remaining(hz, rel))["released_area_ha"].sum()
    >>> bool(abs(by_month.sum() - total) < 1e-6 * total)
    True
    """
    from minemap.progress import progress

    empty = pd.Series(dtype=float, name=s.RELEASED_AREA_HA)
    if releases is None or not len(releases) or s.RELEASED_ON not in releases.columns:
        return empty
    table = progress(hazards, releases, as_of=as_of, period="month")
    total = table[(table[s.DISTRICT] == s.ALL) & (table[s.METHOD] == s.ALL)]
    if not len(total):
        return empty
    months = pd.DatetimeIndex(total[s.PERIOD]).to_period("M")
    return pd.Series(
        total[s.RELEASED_HA].to_numpy(dtype=float), index=months, name=s.RELEASED_AREA_HA
    )


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = max(span, 1e-9) / ticks
    power = 10 ** np.floor(np.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return float(mult * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def released_chart_svg(by_month: pd.Series, *, width: int = 900, height: int = 300) -> str:
    """An inline SVG chart: hectares released per month (bars) and in total (line).

    Parameters
    ----------
    by_month
        From :func:`released_by_month`.
    width, height
        Size of the drawing in SVG units (it scales to the page).

    Returns
    -------
    str
        ``<svg>`` markup; its only text is numbers and month labels.
    """
    left, right, top, bottom = 70, 70, 20, 40
    w, h = width - left - right, height - top - bottom
    parts = [
        (
            f'<svg {_SVG_NS} viewBox="0 0 {width} {height}" role="img" '
            'aria-label="Released area per month and in total">'
        )
    ]
    if by_month.empty:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">'
            "No release recorded</text></svg>"
        )
        return "".join(parts)
    values = by_month.to_numpy(dtype=float)
    total = np.cumsum(values)
    n = len(values)
    # Nothing released yet (or only outside every hazard): an axis of 0-1 ha.
    bar_span = values.max() if values.max() > 0 else 1.0
    tot_span = total[-1] if total[-1] > 0 else 1.0
    bar_step = _nice_step(bar_span)
    bar_top = bar_step * np.ceil(bar_span / bar_step)
    tot_step = _nice_step(tot_span)
    tot_top = tot_step * np.ceil(tot_span / tot_step)
    bw = w / n

    def y_bar(v: float) -> float:
        return top + h - h * v / bar_top

    def y_tot(v: float) -> float:
        return top + h - h * v / tot_top

    grid = np.arange(0, bar_top + bar_step / 2, bar_step)
    for v in grid:
        y = y_bar(v)
        parts.append(
            f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#2E7D32">{v:,.0f}</text>'
        )
    parts.extend(
        f'<text x="{left + w + 6}" y="{y_tot(v) + 4:.1f}" font-size="11" '
        f'fill="#00441B">{v:,.0f}</text>'
        for v in np.arange(0, tot_top + tot_step / 2, tot_step)
    )
    for i, v in enumerate(values):
        y = y_bar(v)
        parts.append(
            f'<rect x="{left + i * bw + bw * 0.1:.1f}" y="{y:.1f}" '
            f'width="{bw * 0.8:.1f}" height="{top + h - y:.1f}" fill="#78C679"/>'
        )
    points = " ".join(f"{left + (i + 0.5) * bw:.1f},{y_tot(v):.1f}" for i, v in enumerate(total))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#00441B" stroke-width="2"/>')
    label_every = max(1, int(np.ceil(n / 12)))
    for i, month in enumerate(by_month.index):
        if i % label_every == 0:
            x = left + (i + 0.5) * bw
            parts.append(
                f'<text x="{x:.1f}" y="{top + h + 16}" font-size="11" '
                f'text-anchor="middle">{html.escape(str(month))}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{left + w}" y1="{top + h}" y2="{top + h}" stroke="#444"/>')
    parts.append(
        f'<text x="12" y="{top + h / 2}" font-size="11" fill="#2E7D32" '
        f'transform="rotate(-90 12 {top + h / 2})" text-anchor="middle">'
        "ha per month</text>"
    )
    parts.append(
        f'<text x="{width - 8}" y="{top + h / 2}" font-size="11" fill="#00441B" '
        f'transform="rotate(90 {width - 8} {top + h / 2})" text-anchor="middle">'
        "ha in total</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _attribute_text(text: str) -> str:
    """Text for a single-quoted attribute value.

    Only ``&`` and ``'`` can end or change such a value; leaving ``"`` and ``<``
    as they are keeps an embedded map page (full of JSON quotes) its own size.
    """
    return text.replace("&", "&amp;").replace("'", "&#39;")


def _check_svg(svg: str, caption: str) -> str:
    """Plain SVG markup for an extra chart, or ``ValueError`` naming what is not."""
    text = str(svg).strip()
    scan = _SvgScan()
    scan.feed(text)
    scan.close()
    problems = scan.problems
    if not text.lower().startswith("<svg"):
        problems.insert(0, "it does not start with <svg")
    if problems:
        raise ValueError(
            f"extra chart {caption!r}: give plain <svg> markup without scripts, event "
            f"handlers, links or HTML; found {', '.join(dict.fromkeys(problems))}"
        )
    return text


def _sum(table: pd.DataFrame, column: str) -> float | None:
    if column not in table.columns:
        return None
    return float(pd.to_numeric(table[column], errors="coerce").sum())


def _known_counts(table: pd.DataFrame) -> str:
    """`` (of N records with known counts)`` where some records' counts are not known."""
    unknown = unknown_records(table)
    if not unknown:
        return ""
    records = table.attrs.get("records")
    if records is None:
        return f" ({unknown:,} record(s) with counts not known left out)"
    return f" (of {records - unknown:,} records with known counts; {unknown:,} not known)"


def _headline(table: pd.DataFrame) -> str:
    known = _known_counts(table)
    figures = [
        ("Mapped area", sym.format_area(_sum(table, s.MAPPED_AREA_HA))),
        ("Released area", sym.format_area(_sum(table, s.RELEASED_AREA_HA))),
        ("Remaining area", sym.format_area(_sum(table, s.REMAINING_AREA_HA))),
        ("Mines recorded" + known, sym.format_count(_sum(table, s.MAPPED_MINES))),
        ("Remaining mines (est.)" + known, sym.format_count(_sum(table, s.REMAINING_MINES_EST))),
    ]
    cells = [
        f'<div class="figure"><div class="value">{html.escape(value or "–")}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for label, value in figures
    ]
    return '<div class="headline">' + "".join(cells) + "</div>"


def _district_table(table: pd.DataFrame) -> str:
    columns = [c for c in table.columns if c != s.DISTRICT]
    head = "".join(f"<th>{html.escape(_TABLE_LABELS.get(c, c))}</th>" for c in columns)
    rows = []
    for record in table.to_dict("records"):
        cells = "".join(
            f'<td class="num">{html.escape(_format_figure(c, record.get(c)))}</td>' for c in columns
        )
        name = "" if sym.is_missing(record.get(s.DISTRICT)) else str(record[s.DISTRICT])
        rows.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
    totals = []
    for c in columns:
        if c.startswith("share"):
            mapped, released = _sum(table, s.MAPPED_AREA_HA), _sum(table, s.RELEASED_AREA_HA)
            value = released / mapped if mapped and released is not None else None
        elif c == s.HAZARDS_UNKNOWN_MINES:
            value = unknown_records(table)  # each record once
        else:
            value = _sum(table, c)
        totals.append(f'<td class="num">{html.escape(_format_figure(c, value))}</td>')
    rows.append(f'<tr class="total"><td>Total</td>{"".join(totals)}</tr>')
    return (
        f'<table class="districts"><thead><tr><th>District</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _when(as_of, releases: gpd.GeoDataFrame | None, known_on=None) -> str:
    """The line under the heading: the day the figures refer to, and when it was made.

    The as-of day always; with ``known_on`` (a workspace read as it was on
    that day), that day too.
    """
    today = dt.date.today().isoformat()
    when = f"As of {today} (no release recorded)"
    if as_of is not None and not sym.is_missing(as_of):
        when = f"As of {pd.Timestamp(as_of).date().isoformat()}"
    elif releases is not None and len(releases) and s.RELEASED_ON in releases.columns:
        latest = _naive_dates(releases[s.RELEASED_ON]).max()
        if not pd.isna(latest):
            when = f"As of {latest.date().isoformat()} (latest release)"
    if known_on is not None and not sym.is_missing(known_on):
        when += f" · as known on {_known_on_text(known_on)} (workspace)"
    return f"{when} · prepared {today}"


def build_report(
    table: pd.DataFrame,
    *,
    hazards: gpd.GeoDataFrame | None = None,
    releases: gpd.GeoDataFrame | None = None,
    map_html: str | None = None,
    title: str = "Remaining contamination",
    as_of: dt.date | str | None = None,
    extra_charts: Sequence[tuple[str, str]] | None = None,
    known_on: dt.date | dt.datetime | str | None = None,
    attribution: str | None = None,
) -> str:
    """One self-contained HTML page for a weekly briefing.

    Parameters
    ----------
    table
        Per-district table from :func:`minemap.by_district`.
    hazards, releases
        Submitted hazards and releases: the chart of released area over time.
    map_html
        A whole map page (``write_map``'s content, e.g. from
        ``render_map(...).get_root().render()``) embedded with ``srcdoc``.
    title
        Heading and page title (escaped).
    as_of
        Date the figures refer to, shown under the heading.
    extra_charts
        Further ``(caption, svg_markup)`` charts, shown after the released-area
        chart. Markup with scripts or event handlers is refused.
    known_on
        The day (or moment, UTC) the layers were read as known on, from a
        workspace: printed under the heading with the as-of day.
    attribution
        Source and licence of the district boundaries, printed under the table
        (escaped).

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    ValueError
        If an extra chart is not plain SVG.

    Examples
    --------
    >>> import minemap as mm
    >>> from minemap import datasets
    >>> hz, rel, ds = datasets.hazards(), datasets.releases(), datasets.districts()
    >>> table = mm.by_district(mm.remaining(hz, rel, ds))
    >>> page = build_report(table, hazards=hz, releases=rel, title="Weekly <briefing>")
    >>> "Weekly &lt;briefing&gt;" in page and "<svg" in page
    True
    """
    charts = [(str(caption), _check_svg(svg, str(caption))) for caption, svg in extra_charts or ()]
    when = _when(as_of, releases, known_on)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(str(title))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(str(title))}</h1>",
        f'<p class="subtitle">{html.escape(when)}</p>',
        "<h2>Headline figures</h2>",
        _headline(table),
        "<h2>By district</h2>",
        _district_table(table),
    ]
    if attribution:
        credit = str(attribution)
        if not credit.lower().startswith("boundaries"):
            credit = f"District boundaries: {credit}"
        parts.append(f'<p class="note">{html.escape(credit)}</p>')
    if hazards is not None and releases is not None:
        by_month = released_by_month(hazards, releases, as_of=as_of)
        parts += [
            "<h2>Released area over time</h2>",
            f'<div class="chart">{released_chart_svg(by_month)}</div>',
            (
                '<p class="note">Bars: hazard hectares released each month; line: in total. '
                "Ground is counted once: a release over ground already released adds nothing, "
                "so the total is the table's released area.</p>"
            ),
        ]
    for caption, svg in charts:
        parts += [f"<h2>{html.escape(caption)}</h2>", f'<div class="chart">{svg}</div>']
    if map_html is not None:
        parts += [
            (
                '<div class="map"><h2>Map</h2><iframe title="Map of remaining contamination" '
                f"srcdoc='{_attribute_text(map_html)}'></iframe></div>"
            ),
        ]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(page: str, path, *, overwrite: bool = False) -> Path:
    """Save a report page atomically (see :func:`minemap.render.write_map`).

    Raises
    ------
    minemap.errors.OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    return _write_text(page, path, overwrite=overwrite)


# --- printing ---------------------------------------------------------------------

#: Executables tried, in order, after ``MINEMAP_CHROMIUM``.
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: The report's printable area at 96 px per inch: A4 less the ``@page`` margins
#: of its stylesheet (12 mm left and right, 14 mm top and bottom).
_A4_CONTENT_PX = {"width": round(186 / 25.4 * 96), "height": round(269 / 25.4 * 96)}
#: How long the page may take to load and draw its map, in milliseconds.
_PRINT_TIMEOUT_MS = 300_000
_LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def find_chromium() -> str:
    """The Chromium that :func:`write_report_pdf` would use, or an error saying why none.

    ``MINEMAP_CHROMIUM`` (a path) if set, else ``chromium``, ``chromium-browser``
    or ``google-chrome`` on the ``PATH``, else a Chromium downloaded by
    ``playwright install chromium``. playwright must be installed
    (``pip install 'minemap[pdf]'``).

    Returns
    -------
    str
        Path of the browser executable.

    Raises
    ------
    minemap.errors.PrintUnavailableError
        When playwright is not installed or no Chromium is found.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PrintUnavailableError(
            "cannot print a PDF: playwright is not installed; pip install 'minemap[pdf]' "
            "(and a Chromium, e.g. apt-get install chromium), or write .html and print it "
            "from a browser"
        ) from None
    chosen = os.environ.get("MINEMAP_CHROMIUM")
    if chosen:
        if os.path.isfile(chosen) and os.access(chosen, os.X_OK):
            return chosen
        raise PrintUnavailableError(
            f"cannot print a PDF: MINEMAP_CHROMIUM={chosen} is not a Chromium executable; "
            "point it at one, or write .html and print it from a browser"
        )
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    with ThreadPoolExecutor(max_workers=1) as pool:
        bundled = pool.submit(_bundled_chromium, sync_playwright).result()
    if bundled and os.path.isfile(bundled):
        return bundled
    raise PrintUnavailableError(
        "cannot print a PDF: no Chromium found; install one (apt-get install chromium, or "
        "playwright install chromium) or set MINEMAP_CHROMIUM, or write .html and print it "
        "from a browser"
    )


def _bundled_chromium(sync_playwright) -> str | None:
    """Where ``playwright install chromium`` puts its browser (it may not be there)."""
    with sync_playwright() as pw:
        return pw.chromium.executable_path


def write_report_pdf(page: str, path, *, overwrite: bool = False, chromium: str | None = None):
    """Print a report page (:func:`build_report`) to an A4 PDF, atomically.

    The page is opened in headless Chromium laid out for print (its print
    stylesheet: the map on its own page, without its controls) and printed as
    the browser's "Save as PDF" would, with backgrounds. Nothing is loaded
    from the network: any request other than the page's own is refused, so a
    ``tiles`` base map is left out of the PDF.

    Parameters
    ----------
    page
        The HTML page.
    path
        The PDF to write.
    overwrite
        Replace an existing file.
    chromium
        Browser executable; by default :func:`find_chromium`'s.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    minemap.errors.PrintUnavailableError
        When no Chromium (or no playwright) is found, or Chromium cannot start.
    minemap.errors.OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    from minemap.errors import OutputExistsError

    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass {argument('overwrite', True)} to replace it")
    executable = chromium or find_chromium()
    # playwright's sync API refuses to run in a thread with an asyncio loop (a
    # notebook, or a caller already driving a browser): print in a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_print_pdf, page, path, overwrite, executable).result()
    return path


def _print_pdf(page: str, path: Path, overwrite: bool, executable: str) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from minemap import io as mio
    from minemap.errors import OutputFileError

    # Chromium refuses its sandbox to root (containers, CI); elsewhere it keeps it.
    args = ["--disable-gpu", "--disable-background-networking"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    with tempfile.TemporaryDirectory(prefix="minemap-print-") as folder:
        source = Path(folder) / "report.html"
        source.write_text(page, encoding="utf-8")
        with sync_playwright() as pw:
            try:
                browser = pw.chromium.launch(executable_path=executable, args=args)
            except PlaywrightError as exc:
                raise PrintUnavailableError(
                    f"cannot print a PDF: Chromium ({executable}) did not start: {_first(exc)}"
                ) from None
            try:
                context = browser.new_context(viewport=_A4_CONTENT_PX, offline=True)
                tab = context.new_page()
                tab.set_default_timeout(_PRINT_TIMEOUT_MS)
                tab.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if route.request.url.startswith(_LOCAL_SCHEMES)
                        else route.abort()
                    ),
                )
                # Laid out for print from the start, so the map is fitted to its printed frame.
                tab.emulate_media(media="print")
                tab.goto(source.as_uri(), wait_until="load")
                tab.evaluate(
                    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                )
                with mio.atomic_path(path, overwrite) as tmp:
                    tab.pdf(
                        path=str(tmp),
                        format="A4",
                        print_background=True,
                        prefer_css_page_size=True,
                    )
            except PlaywrightError as exc:
                raise OutputFileError(path, f"Chromium could not print it: {_first(exc)}") from None
            finally:
                browser.close()


def _first(exc: BaseException) -> str:
    """The first line of an error's message (playwright's carry a whole call log)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
