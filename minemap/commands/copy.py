"""`minemap copy`: a whole workspace into a new one, of either kind."""

from __future__ import annotations

import click

from minemap import workspace as store
from minemap.commands._common import WORKSPACE, note, shown, verbosity


@click.command("copy")
@click.argument("source", metavar="SRC", type=WORKSPACE)
@click.argument("target", metavar="DST", type=WORKSPACE)
@verbosity
def copy(source, target) -> None:
    """Copy the workspace SRC into a new workspace DST, losslessly.

    Either may be a GeoPackage (.gpkg) or a PostgreSQL database (postgresql://USER@HOST/DB):
    move a programme's workspace onto a server, or take a copy of the server's home. The
    log (with each import's review), every version of every record and every reject go
    across: DST gives the same layers, history, log and rejects, as known on any day. DST
    must not hold a workspace yet (into a database, copy as its owner).
    """
    if isinstance(target, type(source)) and str(source) == str(target):
        raise click.UsageError("SRC and DST are the same workspace")
    if not store.is_url(target) and target.suffix.lower() != ".gpkg":
        raise click.UsageError(f"{target}: a GeoPackage workspace ends in .gpkg")
    imports = store.copy_workspace(source, target)
    note(f"copied {imports} import(s) from {shown(source)} into {shown(target)}")


command = copy
