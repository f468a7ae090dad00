"""mypy passes on the geometry core (the modules pyproject.toml's [tool.mypy] names)."""

from __future__ import annotations

import pathlib
import sys

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]

api = pytest.importorskip("mypy.api", reason="mypy is in the test extras: pip install -e '.[test]'")


def test_the_checked_modules_are_the_core():
    with (ROOT / "pyproject.toml").open("rb") as handle:
        files = tomllib.load(handle)["tool"]["mypy"]["files"]
    assert {"minemap/overlay.py", "minemap/geodesy.py", "minemap/engine.py"} <= set(files)
    assert "minemap/contamination.py" in files
    assert all((ROOT / name).is_file() for name in files)


@pytest.mark.slow  # about 30 s of CPU: CI runs it (MINEMAP_SLOW=1)
def test_mypy_passes_on_the_core(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    stdout, stderr, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path)]
    )
    assert status == 0, stdout + stderr
    assert "Success" in stdout
