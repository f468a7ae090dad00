"""`minemap add`: import one file into a workspace."""

from __future__ import annotations

from pathlib import Path

import click

from minemap import schema as s
from minemap import workspace as store
from minemap.commands._common import (
    WORKSPACE,
    layer_for,
    log_problems,
    mapping_for,
    max_segment_m,
    note,
    parse_map,
    read_options,
    reading,
    shown,
    verbosity,
)

#: Rejected features listed on stderr before the rest are counted.
_REJECTS_SHOWN = 30


@click.command("add")
@click.argument("kind", type=click.Choice(s.LAYER_KINDS))
@click.argument("workspace", metavar="WORKSPACE", type=WORKSPACE)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--source",
    metavar="TEXT",
    help="Who handed the file over (an organisation, a team, a map's name). Kept in the "
    "log; with the ids, it says which records a later file corrects: a file with the "
    "same --source and the same ids supersedes them.",
)
@click.option(
    "--imported-at",
    "imported_at",
    metavar="YYYY-MM-DDTHH:MM",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="Record the import as made at this moment (UTC) instead of now: to build a "
    "workspace from an archive of earlier files, oldest first.",
)
@read_options
@verbosity
def add(kind: str, workspace, file: Path, source, imported_at) -> None:
    """Add one file of hazards, releases, items or districts to a workspace.

    The file is checked like every other input. Kept features become the current
    version of their records (a record is its id and the --source); a changed
    record supersedes its earlier version, which stays in the history. Rejected
    features are stored with their reasons: nothing handed over is lost. The whole
    import is one transaction. Adding the same file again changes nothing; but a file
    whose every feature was rejected is not imported (exit status 1): add it again the
    right way. WORKSPACE is a .gpkg file or postgresql://USER@HOST[:PORT]/DB; there, a
    submitter adds under its own sources, and its import counts once a manager accepts
    it (minemap review).

    A --profile is stored with the import; a later file from the same --source is
    read with it again unless another --profile is given.
    """
    meta = click.get_current_context().meta
    done = store.add_file(
        workspace,
        kind,
        file,
        source=source,
        layer=layer_for(kind, meta.get("minemap.layer")),
        mapping=mapping_for(kind, parse_map(meta.get("minemap.map"))) or None,
        crs=meta.get("minemap.crs"),
        imported_at=imported_at,
        max_segment_m=max_segment_m(),
        profile=meta.get("minemap.profile"),
        reuse_profile=True,
        reading=reading(),
    )
    if done.reused_profile is not None:
        profile, import_id = done.reused_profile
        note(
            f"{file}: read with the profile {profile.name} of source {source!r} "
            f"(stored with import #{import_id}); give --profile to use another"
        )
    if done.loaded is not None:
        log_problems(done.loaded)
        click.echo(done.loaded.summary(), err=True)
        errors = done.loaded.errors
        for problem in errors[:_REJECTS_SHOWN]:
            click.echo(f"  {problem}", err=True)
        if len(errors) > _REJECTS_SHOWN:
            click.echo(f"  ... and {len(errors) - _REJECTS_SHOWN} more", err=True)
        for warning in done.notes:
            click.echo(f"WARNING: {file}: {warning}", err=True)
    click.echo(done.summary())
    if done.wholly_rejected:
        # Logged with its rejects, but not imported: the same file can be added again.
        raise click.ClickException(
            f"every feature of {file} was rejected, so nothing was added (the rejects are kept "
            f"with their reasons: `minemap log {shown(workspace)} --rejected --import "
            f"{done.import_id}`); fix the file, or add it again the right way (--source, --map, "
            "--layer, --crs, --profile)"
        )


command = add
