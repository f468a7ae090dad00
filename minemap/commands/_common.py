"""Options and steps shared by the ``minemap`` commands."""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from minemap import contamination
from minemap import io as mio
from minemap import schema as s
from minemap.errors import MinemapError, OutputExistsError

log = logging.getLogger("minemap")


# --- shared options -------------------------------------------------------------


class OneOrMore(click.Option):
    """An option that takes one or more values: ``--hazards a.gpkg b.gpkg``.

    Repeating the option (``--hazards a.gpkg --hazards b.gpkg``) works too.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser, ctx) -> None:
        super().add_to_parser(parser, ctx)
        options = {**getattr(parser, "_long_opt", {}), **getattr(parser, "_short_opt", {})}
        for name in self.opts:
            option = options.get(name)
            if option is None:  # another click: the option can still be repeated
                continue
            original = option.process

            def process(value, state, original=original) -> None:
                values = [value]
                while state.rargs and not state.rargs[0].startswith("-"):
                    values.append(state.rargs.pop(0))
                for item in values:
                    original(item, state)

            option.process = process


EXISTING = click.Path(exists=False, dir_okay=False, path_type=Path)


def layer_options(require_releases: bool = True):
    def decorate(func):
        func = click.option(
            "--rejects",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write rejected features here (.gpkg, .geojson or .csv, with a 'problem' "
            "column) and go on; without it, any rejected feature stops the run.",
        )(func)
        func = click.option(
            "--as-of",
            "as_of",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="Count releases dated on or before this day (YYYY-MM-DD). Default: all.",
        )(func)
        func = click.option(
            "--districts", type=EXISTING, help="District polygons (with a 'district' column)."
        )(func)
        func = click.option(
            "--releases",
            cls=OneOrMore,
            type=EXISTING,
            required=require_releases,
            help="Released land: cancelled, reduced, cleared (one or more files).",
        )(func)
        return click.option(
            "--hazards",
            cls=OneOrMore,
            type=EXISTING,
            required=True,
            help="Submitted hazard records / minefield maps (one or more files).",
        )(func)

    return decorate


def overwrite_option(func):
    return click.option(
        "--overwrite", is_flag=True, help="Replace output files that already exist."
    )(func)


def verbosity(func):
    @click.option("-v", "--verbose", count=True, help="More log output (repeat for more).")
    @click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bars.")
    @functools.wraps(func)
    def wrapper(*args, verbose: int, quiet: bool, **kwargs):
        level = (
            logging.ERROR
            if quiet
            else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
        )
        logging.basicConfig(
            level=level, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True
        )
        ctx = click.get_current_context()
        ctx.meta["minemap.quiet"] = quiet
        try:
            return func(*args, **kwargs)
        except MinemapError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except OSError as exc:  # writing outputs: no space, no permission...
            name = getattr(exc, "filename", None)
            click.echo(f"Error: {name + ': ' if name else ''}{exc.strerror or exc}", err=True)
            ctx.exit(1)

    return wrapper


def quiet() -> bool:
    return bool(click.get_current_context().meta.get("minemap.quiet"))


# --- helpers --------------------------------------------------------------------


def load(paths, kind: str) -> mio.Loaded:
    loaded = mio.load_layers(list(paths), kind)
    for problem in loaded.warnings:
        log.warning("%s", problem)
    return loaded


def load_inputs(hazards, releases, districts, rejects: Path | None, overwrite: bool):
    """Read every layer; refuse or set aside rejected features (nothing silently lost)."""
    layers = {"hazards": load(hazards, "hazards")}
    layers["releases"] = load(releases, "releases") if releases else None
    layers["districts"] = load([districts], "districts") if districts else None
    loaded = [v for v in layers.values() if v is not None]
    for item in loaded:
        click.echo(item.summary(), err=True)
    errors = [p for item in loaded for p in item.errors]
    if errors:
        if rejects is None:
            for problem in errors[:30]:
                click.echo(f"  {problem}", err=True)
            if len(errors) > 30:
                click.echo(f"  ... and {len(errors) - 30} more", err=True)
            raise click.ClickException(
                f"{sum(len(i.rejected) for i in loaded)} feature(s) would be rejected; "
                "nothing was written. Fix them, or pass --rejects FILE to set them aside."
            )
        write_rejects(loaded, rejects, overwrite)
    elif rejects is not None:
        write_rejects(loaded, rejects, overwrite)

    def kept(name):
        return layers[name].kept if layers[name] is not None else None

    empty_releases = gpd.GeoDataFrame(
        {s.RELEASE_ID: [], s.RELEASED_ON: pd.Series([], dtype="datetime64[ns]"), s.METHOD: []},
        geometry=[],
        crs=s.CANONICAL_CRS,
    )
    releases = kept("releases") if layers["releases"] is not None else empty_releases
    return kept("hazards"), releases, kept("districts")


def write_rejects(loaded, path: Path, overwrite: bool) -> None:
    frames = []
    for item in loaded:
        frame = item.rejected.copy()
        frame.insert(0, "layer", item.kind)
        frames.append(frame)
    rejected = pd.concat(frames, ignore_index=True)
    rejected = gpd.GeoDataFrame(rejected, geometry="geometry", crs=s.CANONICAL_CRS)
    if path.suffix.lower() == ".csv":
        table = pd.DataFrame(rejected.drop(columns="geometry"))
        table["wkt"] = rejected.geometry.to_wkt()
        mio.write_table(table, path, overwrite=overwrite)
    else:
        mio.write_layer(rejected, path, overwrite=overwrite)
    click.echo(f"rejects: {len(rejected)} feature(s) written to {path}", err=True)


def check_outputs(paths, overwrite: bool) -> None:
    """Refuse before any work when an output exists (rio's convention)."""
    for path in paths:
        if path is not None and Path(path).exists() and not overwrite:
            raise OutputExistsError(f"{path} exists; pass --overwrite to replace it")


def format_table(table: pd.DataFrame) -> str:
    """The per-district table as text, with a total line."""
    columns = list(s.TABLE_COLUMNS)
    shown = table[columns].copy()
    total = shown[columns[1:]].sum()
    shown.loc[len(shown)] = ["TOTAL", *total.to_numpy()]
    heads = [
        "district",
        "mapped ha",
        "released ha",
        "remaining ha",
        "mines",
        "remaining mines (est)",
    ]
    rows = [
        [
            str(r[s.DISTRICT]),
            f"{r[s.MAPPED_AREA_HA]:,.1f}",
            f"{r[s.RELEASED_AREA_HA]:,.1f}",
            f"{r[s.REMAINING_AREA_HA]:,.1f}",
            f"{r[s.MAPPED_MINES]:,.0f}",
            f"{r[s.REMAINING_MINES_EST]:,.0f}",
        ]
        for _, r in shown.iterrows()
    ]
    widths = [max(len(x) for x in col) for col in zip(heads, *rows, strict=False)]

    def line(cells):
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    rule = "  ".join("-" * w for w in widths)
    body = [line(r) for r in rows]
    return "\n".join([line(heads), rule, *body[:-1], rule, body[-1]])


def as_of_text(as_of) -> str:
    return "all releases" if as_of is None else f"releases up to {as_of:%Y-%m-%d}"


# --- commands -------------------------------------------------------------------


def run_job(
    hazards,
    releases,
    districts,
    as_of,
    map_path,
    table_path,
    layer_path,
    *,
    overwrite,
    title="Remaining contamination",
):
    rem = contamination.remaining(hazards, releases, districts, as_of=as_of, progress=not quiet())
    table = contamination.by_district(rem, districts=districts)
    if layer_path is not None:
        mio.write_layer(rem, layer_path, overwrite=overwrite)
    if table_path is not None:
        mio.write_table(table, table_path, overwrite=overwrite)
    if map_path is not None:
        write_map_file(rem, table, hazards, releases, districts, as_of, map_path, overwrite, title)
    click.echo(f"Remaining contamination ({as_of_text(as_of)}):", err=True)
    click.echo(format_table(table))
    return rem, table


def write_map_file(rem, table, hazards, releases, districts, as_of, path, overwrite, title) -> None:
    from minemap.render import render_map, write_map

    shown = contamination._released_by(releases, contamination.parse_as_of(as_of))
    m = render_map(
        rem, table, hazards=hazards, releases=shown, districts=districts, as_of=as_of, title=title
    )
    write_map(m, path, overwrite=overwrite)
