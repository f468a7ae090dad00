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


# --- end of browser fixtures ----------------------------------------------------
