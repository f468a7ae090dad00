"""Connecting to a PostgreSQL workspace: its URL, shown without a password, and the
server's errors as minemap's.

A workspace on PostgreSQL is named by a libpq URL, ``postgresql://USER@HOST[:PORT]/DB``.
Passwords come from ``~/.pgpass`` or ``PGPASSWORD`` (libpq reads them); one written
in the URL works too, but minemap never prints it: every message shows the URL
without it (:func:`shown`), and any text from the server or the driver is cleaned
of it before it is shown.
"""

from __future__ import annotations

import contextlib
import urllib.parse

from minemap.errors import WorkspaceError, WorkspacePermissionError

#: What a user is told to install where the driver is missing.
_INSTALL = "pip install 'minemap[postgres]' (psycopg 3)"


def _driver():
    try:
        import psycopg
    except ImportError:
        raise WorkspaceError(
            "postgresql://", f"a PostgreSQL workspace needs the psycopg driver: {_INSTALL}"
        ) from None
    return psycopg


def parts(url: str) -> dict[str, str]:
    """The URL's connection parameters (libpq's reading of it)."""
    psycopg = _driver()
    try:
        return psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise WorkspaceError(
            shown(url),
            f"is not a PostgreSQL URL ({clean(str(exc), url)}); "
            "use postgresql://USER@HOST[:PORT]/DB",
        ) from None


def shown(url: str) -> str:
    """The URL without any password (in the user part or as a parameter)."""
    try:
        split = urllib.parse.urlsplit(url)
    except ValueError:
        return "postgresql://…"
    host = split.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{split.port}" if split.port else ""
    except ValueError:
        port = ""
    user = f"{urllib.parse.unquote(split.username)}@" if split.username else ""
    query = [
        (k, v)
        for k, v in urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        if k.lower() != "password"
    ]
    tail = f"?{urllib.parse.urlencode(query)}" if query else ""
    return f"{split.scheme}://{user}{host}{port}{split.path}{tail}"


def _password(url: str) -> str | None:
    with contextlib.suppress(Exception):
        return _driver().conninfo.conninfo_to_dict(url).get("password")
    return None


def clean(text: str, url: str) -> str:
    """``text`` (from the server or the driver) with the URL's password taken out."""
    password = _password(url)
    if password:
        text = text.replace(password, "***")
        quoted = urllib.parse.quote(password, safe="")
        if quoted != password:
            text = text.replace(quoted, "***")
    return " ".join(text.split())


def database(url: str) -> str:
    name = parts(url).get("dbname")
    if not name:
        raise WorkspaceError(shown(url), "names no database; use postgresql://USER@HOST[:PORT]/DB")
    return name


def connect(url: str, *, autocommit: bool = False):
    """A connection (a transaction begins with the first statement), or a WorkspaceError
    that says why, without the password."""
    psycopg = _driver()
    database(url)
    try:
        con = psycopg.connect(url, autocommit=autocommit, connect_timeout=30)
    except psycopg.Error as exc:
        raise WorkspaceError(
            shown(url), f"cannot connect to the database: {clean(str(exc), url)}"
        ) from None
    con.execute("SET TIME ZONE 'UTC'")
    con.execute("SET DateStyle = 'ISO, YMD'")
    con.execute("SET search_path = minemap, public")
    if not autocommit:
        con.commit()
    return con


def problem(url: str, exc: Exception) -> WorkspaceError:
    """The minemap error for an error of the server or the driver."""
    psycopg = _driver()
    text = clean(str(exc).strip() or type(exc).__name__, url)
    where = shown(url)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return WorkspacePermissionError(
            where,
            f"the database refused: {text}. Your role may not do this; a manager can "
            "`minemap grant` you the role you need",
        )
    if isinstance(exc, psycopg.OperationalError):
        return WorkspaceError(
            where,
            f"the connection to the server failed ({text}); a transaction cut off is not "
            "committed: check with `minemap log` and run the command again",
        )
    return WorkspaceError(where, f"the database said: {text}")


@contextlib.contextmanager
def errors(url: str):
    """Turn the server's and the driver's errors inside into minemap's."""
    psycopg = _driver()
    try:
        yield
    except psycopg.Error as exc:
        raise problem(url, exc) from None
