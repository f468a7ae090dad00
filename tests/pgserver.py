"""A throwaway PostgreSQL + PostGIS server for the tests (127.0.0.1 only, trust auth).

``initdb`` refuses to run as root, so as root the server runs as the unprivileged
``postgres`` user, in a temporary folder it owns. Set MINEMAP_PG_BIN to the folder
of ``initdb`` and ``pg_ctl`` to choose a PostgreSQL; MINEMAP_REQUIRE_POSTGRES=1 (as
CI sets) makes a missing PostgreSQL or PostGIS a failure instead of a skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

#: A role that logs in with a password (scram-sha-256), to test that none is ever shown.
PASSWORD_USER = "minemap_pw"
PASSWORD = "S3cret-Pässword_7x!"
INSTALL_HINT = (
    "PostgreSQL with PostGIS not installed: apt-get install postgresql-15-postgis-3 "
    "to run the PostgreSQL workspace tests"
)


class UnavailableError(RuntimeError):
    """No PostgreSQL (or no PostGIS) on this machine."""


def find_bin() -> Path:
    chosen = os.environ.get("MINEMAP_PG_BIN")
    candidates = [chosen] if chosen else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    which = shutil.which("pg_ctl")
    if which:
        candidates.append(str(Path(which).parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise UnavailableError(INSTALL_HINT)


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """initdb, start, stop (also ``immediate``, as a crash), and URLs for its databases."""

    def __init__(self) -> None:
        self.bin = find_bin()
        self.root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="minemap-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        if self.root:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.folder.chmod(0o700)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, check=check, timeout=120, cwd="/"
        )

    def init(self) -> Server:
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "--data-checksums", "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip
        hba = self.data / "pg_hba.conf"
        hba.write_text(
            f"local all all trust\n"
            f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n",
            encoding="utf-8",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.folder} -c fsync=off -c full_page_writes=off "
            "-c max_connections=60 -c shared_buffers=64MB -c client_connection_check_interval=100"
        )
        with (self.data / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
            for option in options.split(" -c "):
                option = option.removeprefix("-c ").strip()
                name, value = option.split("=", 1)
                conf.write(f"{name} = '{value}'\n")
        self.start()
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def url(self, database: str = "postgres", user: str = "postgres", password=None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres", params=()):
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as con:
            cursor = con.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

    def prepare(self) -> Server:
        """A template database with PostGIS (copied for each test's database) and the
        role that logs in with a password."""
        available = self.sql("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        if not available:
            raise UnavailableError(INSTALL_HINT)
        self.sql("CREATE DATABASE minemap_template")
        self.sql("CREATE EXTENSION postgis", database="minemap_template")
        self.sql(f"CREATE ROLE {PASSWORD_USER} LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
        return self

    def database(self, name: str, *, postgis: bool = True) -> str:
        template = "minemap_template" if postgis else "template0"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE {template} STRATEGY FILE_COPY')
        return self.url(name)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
