"""`minemap log`: every import of a workspace (or its rejected features)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from minemap import io as mio
from minemap import schema as s
from minemap import workspace as store
from minemap.commands._common import note, text_table, verbosity


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def format_log(log: pd.DataFrame) -> str:
    """The import log as an aligned table (the full SHA-256 last)."""
    heads = [
        "#",
        "imported (UTC)",
        "kind",
        "file",
        "source",
        "read",
        "kept",
        "rejected",
        "new",
        "superseded",
        "unchanged",
        "sha256",
    ]
    rows = [
        [
            str(r[s.IMPORT_ID]),
            f"{r[s.IMPORTED_AT]:%Y-%m-%d %H:%M:%S}",
            r[s.KIND],
            Path(r[s.FILE]).name,
            _text(r[s.SOURCE]),
            *(str(r[c]) for c in (s.READ, s.KEPT, s.REJECTED, s.NEW, s.SUPERSEDED, s.UNCHANGED)),
            r[s.SHA256],
        ]
        for _, r in log.iterrows()
    ]
    return text_table(heads, rows, right={0, 5, 6, 7, 8, 9, 10})


def format_rejects(rejects: pd.DataFrame) -> str:
    """Rejected features as an aligned table: import, layer, file row, id and problem."""
    heads = ["#", "layer", "file", "row", "id", "problem"]
    rows = [
        [
            str(r[s.IMPORT_ID]),
            r[s.LAYER],
            Path(r[s.FILE]).name,
            _text(r[mio.SOURCE_ROW]),
            _text(r[s.FEATURE_ID]),
            r[mio.PROBLEM],
        ]
        for _, r in rejects.iterrows()
    ]
    return text_table(heads, rows, right={0, 3})


@click.command("log")
@click.argument("workspace", metavar="WORKSPACE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--rejects",
    "show_rejects",
    is_flag=True,
    help="List the rejected features, with their reasons, instead of the imports.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Check the whole workspace instead: SQLite's integrity check, the checksum of every "
    "record and every geometry (for a backup, or a copy received). Exit 1 if it is damaged.",
)
@click.option(
    "--import",
    "import_id",
    metavar="N",
    type=click.IntRange(min=1),
    help="With --rejects: only those of import #N.",
)
@verbosity
def log(workspace: Path, as_json: bool, show_rejects: bool, check: bool, import_id) -> None:
    """List every import of a workspace: when (UTC), which file, its SHA-256, from whom,
    how many features were read, kept and rejected, and what changed.
    """
    if import_id is not None and not show_rejects:
        raise click.UsageError("--import N goes with --rejects")
    if check:
        if show_rejects or as_json:
            raise click.UsageError("--check goes alone (without --rejects or --json)")
        rows = store.verify_workspace(workspace)
        click.echo(
            f"{workspace}: checked: SQLite's integrity check, and the checksums of {rows} "
            "row(s) and of every table, the schema and every geometry: no damage found",
            err=True,
        )
        return
    if show_rejects:
        rejects = store.read_rejects(workspace, import_id=import_id)
        if as_json:
            table = pd.DataFrame(rejects.drop(columns=rejects.geometry.name))
            table["wkt"] = rejects.geometry.to_wkt()
            click.echo(table.to_json(orient="records", force_ascii=False, indent=2))
        elif len(rejects):
            click.echo(format_rejects(rejects))
        note(f"{len(rejects)} rejected feature(s) in {workspace}")
        return
    imports = store.read_imports(workspace)
    if as_json:
        records = imports.assign(
            **{s.IMPORTED_AT: imports[s.IMPORTED_AT].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        ).to_dict(orient="records")
        for record in records:
            record[s.READ_OPTIONS] = json.loads(record[s.READ_OPTIONS])
        click.echo(json.dumps(records, indent=2, ensure_ascii=False, default=str))
    elif len(imports):
        click.echo(format_log(imports))
    note(
        f"{len(imports)} import(s) in {workspace} "
        f"(workspace schema version {store.schema_version(workspace)})"
    )


command = log
