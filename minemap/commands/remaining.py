"""`minemap remaining`."""

from __future__ import annotations

import click

from minemap.commands._common import (
    LAYER_OUTPUTS,
    TABLE_OUTPUTS,
    OutputFile,
    check_outputs,
    layer_options,
    load_inputs,
    overwrite_option,
    run_job,
    verbosity,
)
from minemap.commands._engine import engine_options
from minemap.commands._options import output_option


@click.command()
@layer_options()
@output_option(
    OutputFile(LAYER_OUTPUTS, "a layer"),
    help="Remaining hazard polygons (.gpkg, .geojson, .shp, .csv, .xlsx...).",
)
@click.option(
    "--by-district",
    "by_district",
    type=OutputFile(TABLE_OUTPUTS, "a table"),
    help="The per-district table (.csv or .xlsx).",
)
@engine_options
@overwrite_option
@verbosity
def remaining(
    hazards,
    releases,
    districts,
    as_of,
    rejects,
    output,
    by_district,
    overwrite,
    engine,
    scheduler,
    chunk_size,
):
    """Remaining contamination: hazards minus released land, per record and per district.

    Prints the per-district table; -o writes the remaining polygons.
    """
    check_outputs([output, by_district, rejects], overwrite)
    hz, rel, ds = load_inputs(hazards, releases, districts, rejects, overwrite)
    run_job(
        hz,
        rel,
        ds,
        as_of,
        None,
        by_district,
        output,
        overwrite=overwrite,
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size,
    )


command = remaining
