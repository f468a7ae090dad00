"""`minemap log`: every import of a workspace (or its rejected features)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from minemap import io as mio
from minemap import schema as s
from minemap import workspace as store
from minemap.commands._common import (
    TABLE_OUTPUTS,
    WORKSPACE,
    OutputFile,
    check_outputs,
    note,
    overwrite_option,
    shown,
    text_table,
    verbosity,
)
from minemap.commands._options import Option, output_option


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _profile_of(options: str) -> dict | None:
    """The profile an import was read with (``name``, ``sha256``, ``text``), if any."""
    try:
        found = json.loads(options).get(store.PROFILE)
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, dict) else None


def format_log(log: pd.DataFrame, *, status: bool = False) -> str:
    """The import log as an aligned table (the full SHA-256 last); ``status`` adds each
    import's review status (a PostgreSQL workspace) before it.

    A ``profile`` column names the import profile each file was read with, when any was.
    """
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
            *([r[s.IMPORT_STATUS]] if status else []),
            r[s.SHA256],
        ]
        for _, r in log.iterrows()
    ]
    if status:
        heads.insert(-1, "status")
    profiles = [(_profile_of(options) or {}).get("name") for options in log[s.READ_OPTIONS]]
    if any(profiles):
        heads.insert(-1, "profile")
        for row, name in zip(rows, profiles, strict=True):
            row.insert(-1, Path(str(name)).name if name else "")
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
@click.argument("workspace", metavar="WORKSPACE", type=WORKSPACE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--rejected",
    "show_rejects",
    cls=Option,
    old=("--rejects",),  # the earlier spelling: --rejects FILE is a file in every other command
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
    help="With --rejected: only those of import #N. With --profile: the profile of import #N.",
)
@click.option(
    "--profile",
    "show_profile",
    is_flag=True,
    help="Print the import profile import #N (--import N) was read with, as stored.",
)
@output_option(
    OutputFile(TABLE_OUTPUTS, "a table"),
    help="Write the list (the imports, or with --rejected the rejected features and their "
    "geometry as WKT) to this .csv or .xlsx file instead of printing it.",
)
@overwrite_option
@verbosity
def log(
    workspace,
    as_json: bool,
    show_rejects: bool,
    check: bool,
    import_id,
    show_profile,
    output: Path | None,
    overwrite: bool,
) -> None:
    """List every import of a workspace: when (UTC), which file, its SHA-256, from whom,
    how many features were read, kept and rejected, what changed, and the import
    profile it was read with (--import N --profile prints that profile); on PostgreSQL,
    each import's status (accepted, pending, rejected), who made it and who reviewed it
    when.
    """
    if show_profile:
        if check or show_rejects:
            raise click.UsageError("--profile goes with --import N (without --check or --rejected)")
        _print_profile(workspace, import_id, as_json)
        return
    if import_id is not None and not show_rejects:
        raise click.UsageError("--import N goes with --rejected or --profile")
    if output is not None and (as_json or check or show_profile):
        raise click.UsageError(
            "-o/--output writes the list as a table: not with --json, --check or --profile"
        )
    check_outputs([output], overwrite)
    if check:
        if show_rejects or as_json:
            raise click.UsageError("--check goes alone (without --rejected or --json)")
        _print_check(workspace)
        return
    if show_rejects:
        _print_rejects(workspace, import_id, output, overwrite=overwrite, as_json=as_json)
        return
    imports = store.read_imports(workspace)
    if output is not None:
        mio.write_table(imports, output, overwrite=overwrite)
        note(f"{len(imports)} import(s) in {shown(workspace)} written to {output}")
        return
    if as_json:
        click.echo(json.dumps(_import_records(imports), indent=2, ensure_ascii=False, default=str))
    elif len(imports):
        reviewed = store.is_url(workspace) or (imports[s.IMPORT_STATUS] != "accepted").any()
        click.echo(format_log(imports, status=bool(reviewed)))
    note(
        f"{len(imports)} import(s) in {shown(workspace)} "
        f"(workspace schema version {store.schema_version(workspace)})"
    )


def _print_check(workspace) -> None:
    """Check the workspace for damage (``log --check``) and say what was checked."""
    rows = store.verify_workspace(workspace)
    if store.is_url(workspace):
        from minemap.workspace import postgis

        pages = (
            "the server checks its pages (data checksums on)"
            if postgis.data_checksums(workspace)
            else "WARNING: the server does not check its pages (data checksums off: "
            "pg_checksums --enable, with the server stopped)"
        )
        click.echo(
            f"{shown(workspace)}: checked: {rows} row(s), every geometry and every "
            f"reference to the log: no damage found; {pages}",
            err=True,
        )
        return
    click.echo(
        f"{workspace}: checked: SQLite's integrity check, and the checksums of {rows} "
        "row(s) and of every table, the schema and every geometry: no damage found",
        err=True,
    )


def _print_rejects(workspace, import_id, output: Path | None, *, overwrite: bool, as_json: bool):
    """List the rejected features (``log --rejected``), of one import with ``--import N``:
    to a table file, as JSON (geometry as WKT) or as text."""
    rejects = store.read_rejects(workspace, import_id=import_id)
    if output is not None:
        table = pd.DataFrame(rejects.drop(columns=rejects.geometry.name))
        table["wkt"] = rejects.geometry.to_wkt()
        mio.write_table(table, output, overwrite=overwrite, rounded=False)  # as read
        note(f"{len(rejects)} rejected feature(s) in {shown(workspace)} written to {output}")
        return
    if as_json:
        table = pd.DataFrame(rejects.drop(columns=rejects.geometry.name))
        table["wkt"] = rejects.geometry.to_wkt()
        click.echo(table.to_json(orient="records", force_ascii=False, indent=2))
    elif len(rejects):
        click.echo(format_rejects(rejects))
    note(f"{len(rejects)} rejected feature(s) in {shown(workspace)}")


def _import_records(imports: pd.DataFrame) -> list[dict]:
    """The import log as JSON-ready records: UTC stamps in ISO 8601, the read
    options as an object, missing values as None."""
    stamps = {
        c: [None if pd.isna(v) else f"{v:%Y-%m-%dT%H:%M:%S.%fZ}" for v in imports[c]]
        for c in (s.IMPORTED_AT, s.REVIEWED_AT)
    }
    records = imports.assign(**stamps).to_dict(orient="records")
    for record in records:
        record[s.READ_OPTIONS] = json.loads(record[s.READ_OPTIONS])
        for key, value in record.items():
            if not isinstance(value, str | int | dict | list) and pd.isna(value):
                record[key] = None
    return records


def _control(c: str) -> bool:
    return ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0


def _print_profile(workspace, import_id, as_json: bool) -> None:
    if import_id is None:
        raise click.UsageError("--profile needs --import N: which import's profile to print")
    imports = store.read_imports(workspace)
    row = imports[imports[s.IMPORT_ID] == import_id]
    if not len(row):
        raise click.UsageError(
            f"{shown(workspace)} has no import #{import_id} (it has {len(imports)} import(s))"
        )
    found = _profile_of(row[s.READ_OPTIONS].iloc[0])
    if found is None:
        raise click.ClickException(f"import #{import_id} was read without a profile")
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
    else:
        # As stored: a workspace may come from elsewhere, so no control character reaches
        # the terminal.
        text = str(found.get("text", ""))
        click.echo(
            "".join(c if c in "\n\t" or not _control(c) else f"\\x{ord(c):02x}" for c in text),
            nl=False,
        )
    note(f"profile {found.get('name')} of import #{import_id} (SHA-256 {found.get('sha256')})")


command = log
