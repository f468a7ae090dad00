"""`minemap density`: a GeoTIFF of estimated remaining mines per cell."""

from __future__ import annotations

import click
import pandas as pd

from minemap import contamination, outputs
from minemap import schema as s
from minemap.commands._common import (
    EXISTING,
    RASTER_OUTPUTS,
    FiniteFloat,
    OneOrMore,
    OutputFile,
    check_outputs,
    no_releases,
    note,
    overwrite_option,
    read_options,
    rejects_option,
    require_inputs,
    verbosity,
    workspace_options,
)
from minemap.commands._engine import engine_options
from minemap.commands._options import output_option
from minemap.commands.accuracy import load_with_items


@click.command("density")
@click.option(
    "--hazards",
    cls=OneOrMore,
    type=EXISTING,
    help="Submitted hazard records / minefield maps (one or more files) "
    "[required without --workspace].",
)
@click.option(
    "--releases",
    cls=OneOrMore,
    type=EXISTING,
    help="Released land: cancelled, reduced, cleared (one or more files) "
    "[required without --workspace].",
)
@click.option("--districts", type=EXISTING, help="District polygons: adds zonal sums to stdout.")
@click.option(
    "--items", cls=OneOrMore, type=EXISTING, help="Devices found: band 3 counts them per cell."
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Count releases (and items) dated on or before this day (YYYY-MM-DD). Default: all.",
)
@click.option(
    "--cell-size",
    "cell_size_m",
    type=FiniteFloat(min=0, min_open=True),
    required=True,
    metavar="METRES",
    help="Cell size in metres on the equal-area grid.",
)
@output_option(
    OutputFile(RASTER_OUTPUTS, "a raster"),
    required=True,
    help="The GeoTIFF to write (tiled, DEFLATE, nodata -9999).",
)
@rejects_option
@workspace_options
@read_options
@engine_options
@overwrite_option
@verbosity
def density(
    hazards,
    releases,
    districts,
    items,
    as_of,
    cell_size_m,
    output,
    rejects,
    overwrite,
    engine,
    scheduler,
    chunk_size,
):
    """Mine density raster: band 1 estimated remaining mines per cell, band 2 per hectare,
    band 3 devices found (with --items), on an equal-area (LAEA) grid.

    With --districts, prints the remaining mines per district read back from the raster
    (cells by their centre) beside the per-district table's figure.
    """
    from minemap import density as dens

    require_inputs(hazards=hazards, releases=releases)
    check_outputs([output, rejects], overwrite)
    hz, rel, ds, it = load_with_items(
        hazards, releases, districts, items, rejects, overwrite, required=("hazards",)
    )
    if rel is None:  # a workspace that holds no releases yet
        rel = no_releases()
    rem = contamination.remaining(
        hz, rel, ds, as_of=as_of, engine=engine, scheduler=scheduler, chunk_size=chunk_size
    )
    try:
        grid = dens.density(
            hz, rel, ds, cell_size_m=cell_size_m, as_of=as_of, items=it, remaining=rem
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cell-size") from None
    dens.write_density(grid, output, overwrite=overwrite)
    _, height, width = grid.bands.shape
    note(
        f"density: {width} x {height} cells of {cell_size_m:g} m written to {output}; "
        f"band 1 holds {grid.mines.sum():,.1f} of {grid.total_mines_est:,.1f} remaining mines "
        "(est.)"
        + (
            f"; {grid.unknown_records:,} record(s) whose mine count is not known are left out "
            "(nodata where nothing else lies)"
            if grid.unknown_records
            else ""
        )
    )
    if ds is not None:
        # Read back from the raster, beside the vector table's figure for the same district.
        zones = dens.zonal_sums(grid, ds)
        table = contamination.by_district(rem, districts=ds)
        estimates = pd.to_numeric(table[s.REMAINING_MINES_EST], errors="coerce").astype(float)
        vector = dict(zip(table[s.DISTRICT].astype(str), estimates, strict=True))
        zones[f"table_{s.REMAINING_MINES_EST}"] = [
            vector.get(str(name), 0.0) for name in zones[s.DISTRICT]
        ]
        # CSV on stdout: quoted where a name holds a comma, safe to open in a spreadsheet.
        zones = outputs.spreadsheet_safe(zones.round(1))
        click.echo(zones.to_csv(index=False, float_format="%.1f", lineterminator="\n"), nl=False)


command = density
