"""Imports follow the data flow (docs/design.md#data-flow): no stage reaches back up."""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "minemap"

#: The geometry core imports nothing from minemap.
CORE = ("minemap.overlay", "minemap.geodesy")
#: Analysis modules: never the map, the report, the workspace or the command line.
ANALYSIS = (
    "minemap.engine",
    "minemap.contamination",
    "minemap.progress",
    "minemap.forecast",
    "minemap.accuracy",
    "minemap.density",
    "minemap.priorities",
    "minemap.validate",
    "minemap.io",
)
SHOW_KEEP_INTERFACES = (
    "minemap.render",
    "minemap.report",
    "minemap.store",
    "minemap.workspace",
    "minemap.cli",
    "minemap.commands",
)


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Every minemap module the file imports, wherever the import statement is (lazy ones too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "minemap":
                found.update(f"minemap.{alias.name}" for alias in node.names)
            elif node.module.startswith("minemap."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("minemap"))
    return found


MODULES = {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_the_scan_sees_the_package():
    assert "minemap.overlay" in MODULES
    assert "minemap.render.map" in MODULES
    assert "minemap.errors" in MODULES["minemap.contamination"]


@pytest.mark.parametrize("module", CORE)
def test_the_geometry_core_imports_nothing_from_minemap(module):
    assert MODULES[module] == set()


def test_the_partition_uses_only_the_overlay_kernels():
    assert MODULES["minemap.partition"] <= {"minemap.overlay"}


@pytest.mark.parametrize("module", ANALYSIS)
def test_analysis_never_imports_what_shows_keeps_or_commands(module):
    reaching_back = {name for name in MODULES[module] if _within(name, SHOW_KEEP_INTERFACES)}
    assert reaching_back == set()


def test_only_the_command_line_imports_the_commands():
    importers = {
        module
        for module, imports in MODULES.items()
        if not _within(module, ("minemap.cli", "minemap.commands"))
        and any(_within(name, ("minemap.commands",)) for name in imports)
    }
    assert importers == set()
