"""Shared pytest fixtures."""

from __future__ import annotations

# --- browser fixtures (owned by minemap.render's tests) ------------------------
# Headless Chromium through playwright, for tests marked ``browser``. Set
# MINEMAP_CHROMIUM to a browser executable to choose one, and
# MINEMAP_REQUIRE_BROWSER=1 to make a missing browser fail instead of skip.
import os
import shutil
from pathlib import Path

import pytest

#: Flags that keep Chromium quiet and offline-friendly in containers.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
_INSTALL_HINT = "Chromium not installed: apt-get install chromium to run browser tests"


def _browser_unavailable(reason: str) -> None:
    if os.environ.get("MINEMAP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (MINEMAP_REQUIRE_BROWSER=1 requires the browser tests to run)")
    pytest.skip(reason)


def _find_chromium() -> str | None:
    chosen = os.environ.get("MINEMAP_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of a Chromium executable, or skip (fail if MINEMAP_REQUIRE_BROWSER=1)."""
    path = _find_chromium()
    if path is None:
        chosen = os.environ.get("MINEMAP_CHROMIUM")
        _browser_unavailable(
            f"MINEMAP_CHROMIUM={chosen} is not a file; {_INSTALL_HINT}" if chosen else _INSTALL_HINT
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    """A headless Chromium driven by playwright (no browser download: Debian's Chromium)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_unavailable(
            "playwright not installed: pip install playwright to run browser tests"
        )
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    """Folder for the browser tests' screenshots and PDFs, for people to look at.

    ``test-output/browser`` in the repository (ignored by git), or the folder
    named by MINEMAP_TEST_OUTPUT.
    """
    folder = Path(
        os.environ.get("MINEMAP_TEST_OUTPUT") or Path(__file__).parent.parent / "test-output"
    )
    folder = folder / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- end of browser fixtures ----------------------------------------------------


# --- demo outputs (owned by issue 5: map and report tests) ----------------------
# The bundled sample's map and report, written once per session by the real
# commands, for the browser tests of tests/test_map_browser.py and
# tests/test_report_browser.py.


@pytest.fixture(scope="session")
def demo_outputs(tmp_path_factory) -> dict[str, Path]:
    """``{"map": demo map.html, "report": report.html}`` from ``minemap demo``/``report``."""
    from click.testing import CliRunner

    from minemap import datasets
    from minemap.cli import main

    folder = tmp_path_factory.mktemp("demo")
    runner = CliRunner()
    result = runner.invoke(main, ["demo", "-o", str(folder / "demo")])
    assert result.exit_code == 0, result.output
    report = folder / "report.html"
    result = runner.invoke(
        main,
        [
            "report",
            "--hazards",
            str(datasets.get_path("hazards")),
            "--releases",
            str(datasets.get_path("releases")),
            "--districts",
            str(datasets.get_path("districts")),
            "-o",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    return {"map": folder / "demo" / "map.html", "report": report}


# --- end of demo outputs --------------------------------------------------------


# --- PostgreSQL + PostGIS (owned by minemap.workspace's tests) ------------------------
# A throwaway server for the whole session (tests/pgserver.py), a fresh database for
# each test. MINEMAP_REQUIRE_POSTGRES=1 (CI) makes a missing PostgreSQL fail the tests.
import itertools  # noqa: E402

_DATABASES = itertools.count(1)


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("MINEMAP_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (MINEMAP_REQUIRE_POSTGRES=1 requires the PostgreSQL tests to run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL + PostGIS server on 127.0.0.1 for this session, stopped at the end."""
    from tests import pgserver

    try:
        import psycopg  # noqa: F401
    except ImportError:
        _postgres_unavailable("psycopg not installed: pip install 'minemap[postgres]'")
    try:
        server = pgserver.Server().init()
    except pgserver.UnavailableError as exc:
        _postgres_unavailable(str(exc))
    try:
        server.prepare()
    except pgserver.UnavailableError as exc:
        server.remove()
        _postgres_unavailable(str(exc))
    yield server
    server.remove()


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a new, empty database with PostGIS (no workspace in it yet)."""
    return pg_server.database(f"ws{next(_DATABASES)}")


@pytest.fixture(params=["gpkg", "postgis"])
def new_workspace(request, tmp_path):
    """Where a new workspace goes, of each kind: a ``.gpkg`` path, or a database URL."""
    if request.param == "gpkg":
        return tmp_path / "ws.gpkg"
    return request.getfixturevalue("pg_url")


# --- end of PostgreSQL ----------------------------------------------------------------
