"""`minemap map`."""

from __future__ import annotations

import click

from minemap.commands._common import (
    MAP_OUTPUTS,
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
from minemap.commands.report import (
    attribution_option,
    public_option,
    tiles_option,
    write_map_page,
)


@click.command("map")
@layer_options()
@output_option(
    OutputFile(MAP_OUTPUTS, "a map"),
    required=True,
    help="The HTML map to write (self-contained, works offline).",
)
@tiles_option
@attribution_option
@public_option
@engine_options
@overwrite_option
@verbosity
def map_(
    hazards,
    releases,
    districts,
    as_of,
    rejects,
    output,
    tiles,
    attribution,
    public,
    overwrite,
    engine,
    scheduler,
    chunk_size,
):
    """Write an offline interactive HTML map of remaining contamination."""
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
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size,
    )
    write_map_page(
        rem,
        table,
        hz,
        rel,
        ds,
        as_of,
        output,
        overwrite,
        tiles=tiles,
        public=public,
        attribution=attribution,
    )


command = map_
