"""`minemap review`: a manager accepts or rejects the imports that wait for review."""

from __future__ import annotations

import click

from minemap import schema as s
from minemap import workspace as store
from minemap.commands._common import WORKSPACE, note, shown, verbosity
from minemap.commands.log import format_log


@click.command("review")
@click.argument("workspace", metavar="URL", type=WORKSPACE)
@click.option("--accept", "accept", metavar="N", type=click.IntRange(min=1), help="Accept #N.")
@click.option("--reject", "reject", metavar="N", type=click.IntRange(min=1), help="Reject #N.")
@click.option("--reason", metavar="TEXT", help="Why import #N is rejected (required with it).")
@verbosity
def review(workspace, accept, reject, reason) -> None:
    """List the imports waiting for review, or accept or reject one (a manager).

    A submitter's import is pending until a manager accepts it: figures, maps and reports
    count accepted imports only (--include-pending previews them). A rejected import never
    counts; its file may be added again once corrected. The submitter sees the status and
    the reason in `minemap log --json`.
    """
    if accept is not None and reject is not None:
        raise click.UsageError("give --accept N or --reject N, not both")
    if reject is not None and not (reason or "").strip():
        raise click.UsageError("--reject N needs --reason TEXT: the submitter reads it")
    if accept is not None and reason:
        raise click.UsageError("--reason goes with --reject")
    if not store.is_url(workspace):
        raise click.UsageError(
            "a GeoPackage workspace has one user: every import is accepted as it is added; "
            "review is for a PostgreSQL workspace (postgresql://USER@HOST/DB)"
        )
    if accept is None and reject is None:
        log = store.read_imports(workspace)
        pending = log[log[s.IMPORT_STATUS] == "pending"]
        if len(pending):
            click.echo(format_log(pending, status=True))
        note(f"{len(pending)} import(s) wait for review in {shown(workspace)}")
        return
    number = accept if accept is not None else reject
    done = store.review(workspace, number, accept=accept is not None, reason=reason)
    click.echo(
        f"import #{done.import_id} ({done.kind} from {done.file.rsplit('/', 1)[-1]}, "
        f"source {done.source or '(none)'}): {done.status}"
    )


command = review
