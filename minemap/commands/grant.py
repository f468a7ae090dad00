"""`minemap grant`: let a database user into a PostgreSQL workspace, in a role."""

from __future__ import annotations

import click

from minemap import workspace as store
from minemap.commands._common import WORKSPACE, verbosity
from minemap.workspace.pgschema import ROLES


@click.command("grant")
@click.argument("workspace", metavar="URL", type=WORKSPACE)
@click.argument("user")
@click.argument("role", type=click.Choice(ROLES))
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="A source the submitter adds under (its organisation, as given to `minemap add "
    "--source`); repeat for several. Required for a submitter.",
)
@verbosity
def grant(workspace, user: str, role: str, sources) -> None:
    """Make USER a viewer, submitter or manager of a PostgreSQL workspace.

    The login role USER is created if needed (set its password in psql: \\password USER).
    A viewer reads; a submitter adds under its own --source names only, and its imports
    wait for review; a manager does everything and reviews (minemap review). The database
    enforces it (roles, grants, row-level security). Run it as the workspace's
    administrator (a user with CREATEROLE).
    """
    if role == "submitter" and not sources:
        raise click.UsageError("a submitter adds under its own sources: give --source NAME")
    if role != "submitter" and sources:
        raise click.UsageError("--source goes with the submitter role only")
    click.echo(store.grant(workspace, user, role, sources=sources))


command = grant
