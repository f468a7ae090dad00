"""`minemap priorities`: rank remaining hazards for the next clearance season."""

from __future__ import annotations

from pathlib import Path

import click

from minemap import io as mio
from minemap.commands._common import (
    EXISTING,
    check_outputs,
    layer_options,
    load_inputs,
    note,
    overwrite_option,
    verbosity,
)
from minemap.errors import MinemapError


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
        if not sep or name not in PARTS or not weight >= 0:
            raise click.BadParameter(
                f"{value!r}: write it as PART=WEIGHT with a number >= 0, PART one of "
                f"{', '.join(PARTS)} (e.g. density=0.4)",
                param_hint="--weight",
            )
        out[name] = weight
    return out


def _context(path: Path | None, name: str):
    if path is None:
        return None
    frame = mio.read_file(path)
    if len(frame) == 0:
        from minemap.errors import InputFileError

        raise InputFileError(path, f"the {name} layer has no features")
    return frame.drop(columns=["_geometry_note"], errors="ignore")


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
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The ranked table (CSV) with every part of the score.",
)
@click.option(
    "--top", type=click.IntRange(min=0), default=10, show_default=True, help="Rows shown on stdout."
)
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
):
    """Rank remaining hazards by a weighted score (density, settlements, roads, area,
    accidents); the CSV lists each part and its contribution (see minemap.priorities).
    """
    from minemap.priorities import priorities as rank

    check_outputs([output, rejects], overwrite)
    hz, rel, ds = load_inputs(hazards, releases, districts, rejects, overwrite)
    context = {
        "settlements": _context(settlements, "settlements"),
        "roads": _context(roads, "roads"),
        "accidents": _context(accidents, "accidents"),
    }
    try:
        table = rank(hz, rel, ds, **context, as_of=as_of, weights=weights)
    except MinemapError:
        raise
    except ValueError as exc:  # weights that leave no part to score by
        raise click.BadParameter(str(exc), param_hint="--weight") from None
    mio.write_table(table, output, overwrite=overwrite)
    used = ", ".join(f"{k}={v:g}" for k, v in table.attrs["weights"].items())
    note(f"priorities: {len(table)} hazard(s) ranked ({used}), written to {output}")
    click.echo(table.head(top)[["rank", "hazard_id", "district", "score"]].to_string(index=False))


command = priorities
