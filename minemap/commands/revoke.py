"""`minemap revoke`: take a role (or a submitter's sources) from a database user."""

from __future__ import annotations

import click

from minemap import workspace as store
from minemap.commands._common import WORKSPACE, verbosity
from minemap.workspace.pgschema import ROLES


@click.command("revoke")
@click.argument("workspace", metavar="URL", type=WORKSPACE)
@click.argument("user")
@click.argument("role", type=click.Choice(ROLES), required=False)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Take only these sources from a submitter (it keeps the others).",
)
@verbosity
def revoke(workspace, user: str, role, sources) -> None:
    """Take ROLE (every role without it) or some --source names from USER.

    The login role stays (drop it in psql if it is no longer needed); its imports stay
    in the log, with its name.
    """
    if sources and role not in (None, "submitter"):
        raise click.UsageError("--source goes with the submitter role only")
    click.echo(store.revoke(workspace, user, role, sources=sources))


command = revoke
