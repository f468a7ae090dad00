"""`minemap map`."""

from __future__ import annotations

from pathlib import Path

import click

from minemap.commands._common import (
    check_outputs,
    layer_options,
    load_inputs,
    overwrite_option,
    run_job,
    verbosity,
)


@click.command("map")
@layer_options()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The HTML map to write (self-contained, works offline).",
)
@overwrite_option
@verbosity
def map_(hazards, releases, districts, as_of, rejects, output, overwrite):
    """Write an offline interactive HTML map of remaining contamination."""
    check_outputs([output, rejects], overwrite)
    hz, rel, ds = load_inputs(hazards, releases, districts, rejects, overwrite)
    run_job(hz, rel, ds, as_of, output, None, None, overwrite=overwrite)


command = map_
