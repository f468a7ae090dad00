"""`minemap init`: create an empty workspace."""

from __future__ import annotations

from pathlib import Path

import click

from minemap import workspace as store
from minemap.commands._common import note, verbosity


def _check_suffix(ctx, param, value: Path) -> Path:
    if value.suffix.lower() != ".gpkg":
        raise click.BadParameter(
            f"{value}: a workspace is a GeoPackage; give it the .gpkg extension", ctx, param
        )
    return value


@click.command("init")
@click.argument(
    "workspace",
    metavar="WORKSPACE.gpkg",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_check_suffix,
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Create an existing empty workspace (one with no import) again. A workspace "
    "that holds imports is never replaced, nor any other file.",
)
@verbosity
def init(workspace: Path, overwrite: bool) -> None:
    """Create an empty workspace: one GeoPackage that keeps every file you add, with history.

    Add layers with `minemap add`, list the imports with `minemap log`, and read
    the layers with `--workspace` in `remaining`, `map`, `report`, `progress`,
    `priorities`, `accuracy` and `density`. A workspace that holds imports is
    never replaced: give a new one another name. See docs/workspace.md.
    """
    store.create_workspace(workspace, overwrite=overwrite)
    note(
        f"created workspace {workspace} (schema version {store.SCHEMA_VERSION}); add layers "
        f"with `minemap add hazards|releases|items|districts {workspace} FILE`"
    )


command = init
