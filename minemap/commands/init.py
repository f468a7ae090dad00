"""`minemap init`: create an empty workspace (a GeoPackage, or minemap's schema in PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import click

from minemap import workspace as store
from minemap.commands._common import WORKSPACE, note, shown, verbosity


def _check_suffix(ctx, param, value):
    if isinstance(value, Path) and value.suffix.lower() != ".gpkg":
        raise click.BadParameter(
            f"{value}: a workspace is a GeoPackage (give it the .gpkg extension) or a "
            "database (postgresql://USER@HOST[:PORT]/DB)",
            ctx,
            param,
        )
    return value


@click.command("init")
@click.argument("workspace", metavar="WORKSPACE", type=WORKSPACE, callback=_check_suffix)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Create an existing empty workspace (one with no import) again. A workspace "
    "that holds imports is never replaced, nor any other file.",
)
@verbosity
def init(workspace, overwrite: bool) -> None:
    """Create an empty workspace that keeps every file you add, with history.

    WORKSPACE is a GeoPackage file (WORKSPACE.gpkg: one user, no server) or an existing
    PostgreSQL database (postgresql://USER@HOST[:PORT]/DB: many users, roles and review;
    the postgis extension is created if you may). Add layers with `minemap add`, list the
    imports with `minemap log`, and read the layers with `--workspace` in `remaining`,
    `map`, `report`, `progress`, `priorities`, `accuracy` and `density`. A workspace that
    holds imports is never replaced. See docs/workspace.md.
    """
    store.create_workspace(workspace, overwrite=overwrite)
    version = store.schema_version(workspace)
    note(
        f"created workspace {shown(workspace)} (schema version {version}); add layers "
        f"with `minemap add hazards|releases|items|districts {shown(workspace)} FILE`"
    )


command = init
