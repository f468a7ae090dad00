"""Who may do what in a PostgreSQL workspace, and the review of submitters' imports.

The database enforces the roles (:mod:`.pgschema`): this module only creates the
login roles, makes them members of the workspace's group roles, records each
submitter's sources, and reviews imports, with the connecting user's own rights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from minemap import schema as s
from minemap.errors import WorkspaceError, WorkspacePermissionError
from minemap.workspace import pgconnect, pgschema, postgis
from minemap.workspace.model import ACCEPTED, IMPORTS_TABLE, PENDING, REJECTED, Import, q
from minemap.workspace.pgschema import ROLES, SOURCES_TABLE, t


@contextlib.contextmanager
def _admin(url: str):
    """A transaction of a user who may manage roles (CREATEROLE), on a workspace whose group
    roles exist (made here where missing)."""
    with contextlib.closing(pgconnect.connect(url)) as con, pgconnect.errors(url):
        postgis._require(con, url)
        if not postgis._may_create_roles(con):
            user = con.execute("SELECT current_user").fetchone()[0]
            raise WorkspacePermissionError(
                pgconnect.shown(url),
                f"{user} may not manage roles (it needs CREATEROLE): connect as the "
                "workspace's administrator (the user who ran `minemap init`, given CREATEROLE)",
            )
        database = pgconnect.database(url)
        names = {r: pgschema.role_name(database, r) for r in ROLES}
        missing = [
            n
            for n in names.values()
            if con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (n,)).fetchone() is None
        ]
        if missing:
            pgschema.apply_roles(con, database)
        yield con, names
        con.commit()


def grant(url: str, user: str, role: str, *, sources: Iterable[str] = ()) -> str:
    """Create the login role ``user`` if needed and make it a ``role`` of the workspace."""
    sources = sorted({x.strip() for x in sources})
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "submitter" and not sources:
        raise ValueError("a submitter adds under its own sources: name at least one (--source)")
    if role != "submitter" and sources:
        raise ValueError("--source goes with the submitter role only")
    with _admin(url) as (con, names):
        made = con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone() is None
        if made:
            con.execute(f"CREATE ROLE {q(user)} LOGIN")
        con.execute(f"GRANT {q(names[role])} TO {q(user)}")
        for source in sources:
            con.execute(
                f"INSERT INTO {t(SOURCES_TABLE)} (member, source) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (user, source),
            )
    what = f"{role}" + (f" (sources: {', '.join(repr(x) for x in sources)})" if sources else "")
    created = "created login role " + user + " (set its password with \\password in psql); "
    return f"{created if made else ''}{user} is a {what} of {pgconnect.shown(url)}"


def revoke(url: str, user: str, role: str | None = None, *, sources: Iterable[str] = ()) -> str:
    """Take some of a submitter's sources, a role, or (no role) every role from ``user``.
    The login role itself stays (it may own other things)."""
    sources = sorted({x.strip() for x in sources})
    with _admin(url) as (con, names):
        if sources:
            con.execute(
                f"DELETE FROM {t(SOURCES_TABLE)} WHERE member = %s AND source = ANY(%s)",
                (user, sources),
            )
            return f"{user} no longer adds under {', '.join(repr(x) for x in sources)}"
        taken = [role] if role else list(ROLES)
        for name in taken:
            con.execute(f"REVOKE {q(names[name])} FROM {q(user)}")
        if "submitter" in taken:
            con.execute(f"DELETE FROM {t(SOURCES_TABLE)} WHERE member = %s", (user,))
    return f"{user} is no longer a {' or '.join(taken)} of {pgconnect.shown(url)}"


def review(url: str, import_id: int, *, accept: bool, reason: str | None = None) -> Import:
    """Accept or reject a pending import, as a manager: it counts from now on, or never."""
    if not accept and not (reason or "").strip():
        raise ValueError("a rejection needs a reason (--reason TEXT): the submitter reads it")
    with postgis.write_session(url, None) as session:
        if not session.may_review():
            raise WorkspacePermissionError(
                session.location,
                "only a manager reviews imports (`minemap grant URL USER manager`)",
            )
        log = session.log()
        found = log[log[s.IMPORT_ID] == import_id]
        if not len(found):
            raise WorkspaceError(session.location, f"holds no import #{import_id}")
        record = found.iloc[0].to_dict()
        if record[s.IMPORT_STATUS] != PENDING:
            by = record[s.REVIEWED_BY]
            raise WorkspaceError(
                session.location,
                f"import #{import_id} is not pending: it is {record[s.IMPORT_STATUS]}"
                + (f" (reviewed by {by} at {record[s.REVIEWED_AT]})" if by else ""),
            )
        status = ACCEPTED if accept else REJECTED
        session.con.execute(
            f"UPDATE {t(IMPORTS_TABLE)} SET {s.IMPORT_STATUS} = %s, "
            f"{s.REVIEWED_BY} = session_user, {s.REVIEWED_AT} = now(), "
            f"{s.REVIEW_REASON} = %s WHERE {s.IMPORT_ID} = %s",
            (status, (reason or "").strip() or None, import_id),
        )
        record[s.IMPORT_STATUS] = status
        return Import.from_record(record)
