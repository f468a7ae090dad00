"""The repository stands on its own: no pointer to a document outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = {".py", ".md", ".toml", ".js", ".css", ".sh", ".txt", ".cfg", ".ipynb", ".html", ".yml"}
SKIP = {".git", ".venv", "node_modules", "vendor", ".hypothesis", ".pytest_cache", "__pycache__"}
# The design notes, style guide and notes of the workspace the project was started in,
# and its shared data folder: none of them ships with the repository.
OUTSIDE = re.compile(r"DESIGN\s*§|DESIGN\.md|STYLE\.md|NOTES\.md|\.\./shared|shared/data")


def _text_files():
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if SKIP.intersection(rel.parts) or rel.parts[0] in {"build", "dist"}:
            continue
        if path.suffix in TEXT and path.is_file():
            yield rel, path


def test_no_pointer_to_documents_outside_the_repository():
    this = Path(__file__).resolve().relative_to(ROOT)
    found = [
        f"{rel}:{n}: {line.strip()}"
        for rel, path in _text_files()
        if rel != this
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == []
