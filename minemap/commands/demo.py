"""`minemap demo`."""

from __future__ import annotations

from pathlib import Path

import click

from minemap import datasets
from minemap.commands._common import (
    check_outputs,
    load_inputs,
    note,
    overwrite_option,
    run_job,
    verbosity,
)
from minemap.commands._engine import engine_options
from minemap.commands._options import output_dir_option


@click.command()
@output_dir_option(
    default=Path("minemap-demo"),
    show_default=True,
    help="Folder for the outputs.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Count releases dated on or before this day (YYYY-MM-DD).",
)
@engine_options
@overwrite_option
@verbosity
def demo(output: Path, as_of, overwrite: bool, engine, scheduler, chunk_size) -> None:
    """Run the whole job on the bundled sample (real districts, synthetic records).

    Writes DIR/map.html, DIR/districts.csv and DIR/remaining.gpkg and prints the
    per-district table.
    """
    outputs = [output / "map.html", output / "districts.csv", output / "remaining.gpkg"]
    check_outputs(outputs, overwrite)
    hazards, releases, districts = load_inputs(
        [datasets.get_path("hazards")],
        [datasets.get_path("releases")],
        datasets.get_path("districts"),
        None,
        overwrite,
    )
    run_job(
        hazards,
        releases,
        districts,
        as_of,
        *outputs,
        overwrite=overwrite,
        title="minemap demo: remaining contamination (synthetic sample)",
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size,
    )
    note(f"wrote {', '.join(str(p) for p in outputs)}")


command = demo
