"""`minemap priorities`: rank remaining hazards for the next clearance season."""

from __future__ import annotations

import math
from pathlib import Path

import click
import numpy as np

from minemap import contamination
from minemap import io as mio
from minemap.commands._common import (
    EXISTING,
    TABLE_OUTPUTS,
    OutputFile,
    check_outputs,
    layer_options,
    load_inputs,
    note,
    overwrite_option,
    verbosity,
)
from minemap.commands._engine import engine_options
from minemap.commands._options import output_option
from minemap.errors import InputFileError, MinemapError


def _weights(ctx, param, values) -> dict[str, float]:
    from minemap.priorities import PARTS

    out = {}
    for value in values or ():
        name, sep, number = value.partition("=")
        name = name.strip()
        try:
            weight = float(number)
        except ValueError:
            weight = float("nan")
        if not sep or name not in PARTS or not 0 <= weight < math.inf:
            raise click.BadParameter(
                f"{value!r}: write it as PART=WEIGHT with a finite number >= 0, PART one of "
                f"{', '.join(PARTS)} (e.g. density=0.4)",
                param_hint="--weight",
            )
        out[name] = weight
    return out


def _context(path: Path | None, name: str):
    """A context layer (settlements, roads, accidents): every feature must be usable.

    These layers only give distances, so their attributes are not checked; but a
    feature without a geometry, or off the globe, would be silently left out of
    the distances: that is an error naming the rows.
    """
    if path is None:
        return None
    frame = mio.read_file(path).drop(columns=["_geometry_note"], errors="ignore")
    if len(frame) == 0:
        raise InputFileError(path, f"the {name} layer has no features")
    lonlat = frame.geometry if frame.crs is None else frame.geometry.to_crs("EPSG:4326")
    bounds = lonlat.bounds.to_numpy()
    unusable = (
        lonlat.isna().to_numpy()
        | lonlat.is_empty.to_numpy()
        | ~np.isfinite(bounds).all(axis=1)
        | (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1)
        | (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1)
    )
    if unusable.any():
        rows = np.flatnonzero(unusable) + 1
        shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
        raise InputFileError(
            path,
            f"{len(rows)} {name} feature(s) have no geometry or lie off the globe (feature "
            f"{shown}): give each a point, line or polygon in the file's CRS, or remove it",
        )
    note(f"{name}: read {len(frame)}, kept {len(frame)}, rejected 0")
    return frame


@click.command("priorities")
@layer_options()
@click.option("--settlements", type=EXISTING, help="Settlements (points or polygons).")
@click.option("--roads", type=EXISTING, help="Roads (lines).")
@click.option("--accidents", type=EXISTING, help="Mine accidents (points).")
@click.option(
    "--weight",
    "weights",
    multiple=True,
    callback=_weights,
    metavar="PART=WEIGHT",
    help="Weight of a part of the score (repeatable): density, settlements, roads, area, "
    "accidents. Defaults 0.35, 0.25, 0.15, 0.10, 0.15.",
)
@output_option(
    OutputFile(TABLE_OUTPUTS, "a table"),
    required=True,
    help="The ranked table (.csv or .xlsx) with every part of the score.",
)
@click.option(
    "--top", type=click.IntRange(min=0), default=10, show_default=True, help="Rows shown on stdout."
)
@engine_options
@overwrite_option
@verbosity
def priorities(
    hazards,
    releases,
    districts,
    as_of,
    rejects,
    settlements,
    roads,
    accidents,
    weights,
    output,
    top,
    overwrite,
    engine,
    scheduler,
    chunk_size,
):
    """Rank remaining hazards by a weighted score (density, settlements, roads, area,
    accidents); the CSV lists each part and its contribution (see minemap.priorities).
    """
    from minemap.priorities import priorities as rank

    check_outputs([output, rejects], overwrite)
    hz, rel, ds = load_inputs(hazards, releases, districts, rejects, overwrite)
    rem = contamination.remaining(
        hz,
        rel,
        ds,
        as_of=as_of,
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size,
    )
    context = {
        "settlements": _context(settlements, "settlements"),
        "roads": _context(roads, "roads"),
        "accidents": _context(accidents, "accidents"),
    }
    try:
        table = rank(hz, rel, ds, **context, as_of=as_of, weights=weights, remaining=rem)
    except MinemapError:
        raise
    except ValueError as exc:  # weights that leave no part to score by
        raise click.BadParameter(str(exc), param_hint="--weight") from None
    mio.write_table(table, output, overwrite=overwrite)
    used = ", ".join(f"{k}={v:g}" for k, v in table.attrs["weights"].items())
    note(f"priorities: {len(table)} hazard(s) ranked ({used}), written to {output}")
    click.echo(table.head(top)[["rank", "hazard_id", "district", "score"]].to_string(index=False))


command = priorities
