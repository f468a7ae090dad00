"""`minemap report` (and the map options it shares with `minemap map`)."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.commands._common import (
    OutputFile,
    check_outputs,
    layer_options,
    load_inputs,
    note,
    overwrite_option,
    run_job,
    verbosity,
)
from minemap.commands._engine import engine_options
from minemap.commands._options import output_option


def _check_tiles(ctx, param, value):
    """A tile URL template: checked at once, so a bad one is a usage error."""
    if value is None:
        return value
    from minemap.render.map import check_tile_url

    try:
        return check_tile_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


tiles_option = click.option(
    "--tiles",
    metavar="URL",
    callback=_check_tiles,
    help="Add an online base layer from this tile URL template: http(s), with {z}, {x} "
    "and {y} (and {s} for subdomains), e.g. https://tile.example.org/{z}/{x}/{y}.png. "
    "Without it the map loads nothing from the network.",
)
attribution_option = click.option(
    "--attribution",
    metavar="TEXT",
    help="Source and licence of the district boundaries, shown on the map (as text), e.g. "
    "'Boundaries: OCHA COD-AB, CC BY-IGO'. Default: the districts' 'attribution' column.",
)
public_option = click.option(
    "--public",
    is_flag=True,
    help="A map safe to publish: no hazard perimeters, ids or sources; contamination "
    "summed by district and on a 2 km grid.",
)


def districts_credit(districts) -> str | None:
    """The districts' own attribution (their ``attribution`` column), or None."""
    from minemap.render.map import districts_attribution

    return districts_attribution(districts) or None


def workspace_known_on():
    """``--known-on`` when the layers come from ``--workspace``, else None."""
    meta = click.get_current_context().meta
    if meta.get("minemap.workspace") is None:
        return None
    return meta.get("minemap.known_on")


def _render(
    rem,
    table,
    hazards,
    releases,
    districts,
    as_of,
    title,
    tiles,
    public,
    attribution,
    known_on=None,
):
    from minemap.render import render_map

    if districts is not None and attribution is None and not districts_credit(districts):
        note(
            "districts: no 'attribution' column to credit the boundaries' source and licence "
            "on the map; give one with --attribution TEXT"
        )
    return render_map(
        rem,
        table,
        hazards=hazards,
        releases=releases,
        districts=districts,
        as_of=as_of,
        title=title,
        tiles=tiles,
        public=public,
        attribution=attribution,
        known_on=known_on,
    )


def write_map_page(
    rem,
    table,
    hazards,
    releases,
    districts,
    as_of,
    path: Path,
    overwrite: bool,
    *,
    title: str = "Remaining contamination",
    tiles: str | None = None,
    public: bool = False,
    attribution: str | None = None,
) -> None:
    """Render and save the map of `minemap map`."""
    from minemap.render import write_map

    known_on = workspace_known_on()
    m = _render(
        rem, table, hazards, releases, districts, as_of, title, tiles, public, attribution, known_on
    )
    write_map(m, path, overwrite=overwrite)


@click.command("report")
@layer_options()
@output_option(
    OutputFile((".html", ".htm", ".pdf"), "a report"),
    default=Path("report.html"),
    show_default=True,
    help="The report to write: .html (one self-contained page, prints on A4) or .pdf (that "
    "page printed to A4 with Chromium: needs playwright, pip install 'minemap[pdf]').",
)
@click.option(
    "--title",
    default="Remaining contamination: weekly briefing",
    show_default=True,
    help="Heading of the report and of its map.",
)
@tiles_option
@attribution_option
@public_option
@engine_options
@overwrite_option
@verbosity
def report(
    hazards,
    releases,
    districts,
    as_of,
    rejects,
    output,
    title,
    tiles,
    attribution,
    public,
    overwrite,
    engine,
    scheduler,
    chunk_size,
) -> None:
    """Write a one-page HTML briefing: headline figures, districts, chart, map.

    With -o x.pdf, the same page printed to A4 (Chromium, through playwright).
    """
    from minemap.errors import PrintUnavailableError
    from minemap.render.map import warn_if_large
    from minemap.report import REPORT_FORMATS, build_report, find_chromium, write_report

    ctx = click.get_current_context()
    kind = REPORT_FORMATS.get(output.suffix.lower())
    if kind is None:
        raise click.BadParameter(
            f"{output}: a report is written as .html or .pdf",
            ctx=ctx,
            param_hint="-o/--output",
        )
    chromium = None
    if kind == "pdf":
        try:
            chromium = find_chromium()  # refused before any work, not after it
        except PrintUnavailableError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)
    check_outputs([output, rejects], overwrite)
    hz, rel, ds = load_inputs(hazards, releases, districts, rejects, overwrite)
    rem, table = run_job(
        hz,
        rel,
        ds,
        as_of,
        None,
        None,
        None,
        overwrite=overwrite,
        title=title,
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size,
    )
    known_on = workspace_known_on()
    m = _render(rem, table, hz, rel, ds, as_of, title, tiles, public, attribution, known_on)
    page = build_report(
        table,
        hazards=hz,
        releases=rel,
        map_html=m.get_root().render(),
        title=title,
        as_of=as_of,
        extra_charts=_progress_charts(hz, rel, ds, as_of),
        known_on=known_on,
        attribution=attribution if attribution is not None else districts_credit(ds),
    )
    if kind == "pdf":
        from minemap.report import write_report_pdf

        if tiles:
            note("report: the PDF's map has no online base map (nothing is fetched to print)")
        write_report_pdf(page, output, overwrite=overwrite, chromium=chromium)
    else:
        write_report(page, output, overwrite=overwrite)
        warn_if_large(output, public=public)
    note(f"wrote {output}")


def _progress_charts(hazards, releases, districts, as_of) -> list[tuple[str, str]]:
    """The progress charts (burn-down, weekly release, items found), ground counted once."""
    from minemap.charts import chart_svgs
    from minemap.progress import progress

    if releases is None or len(releases) == 0:
        return []
    svgs = chart_svgs(progress(hazards, releases, districts, as_of=as_of))
    captions = {
        "burndown": "Remaining hazardous area per district (burn-down), ground counted once.",
        "released": "Land released per week by method, with its rolling mean.",
        "items": "Items found per week, by type.",
    }
    # Inline <svg> markup: drop the XML declaration and doctype of the SVG document.
    return [(captions.get(name, name), svg[svg.index("<svg") :]) for name, svg in svgs.items()]


command = report
