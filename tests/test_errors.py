"""Every error minemap raises on purpose is in minemap.errors, exported, and a built-in too."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import minemap
from minemap import errors


def _modules():
    for info in pkgutil.walk_packages(minemap.__path__, "minemap."):
        yield importlib.import_module(info.name)


def _public_errors():
    """Every public exception class defined anywhere in minemap."""
    found = {}
    for module in _modules():
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("minemap")
                and not name.startswith("_")
            ):
                found[value] = module.__name__
    return found


def test_every_public_error_is_defined_in_errors_and_exported():
    found = _public_errors()
    assert errors.MinemapError in found
    outside = sorted(
        f"{cls.__module__}.{cls.__name__}" for cls in found if cls.__module__ != errors.__name__
    )
    assert outside == []
    for cls in found:
        assert cls.__name__ in errors.__all__, cls
        assert cls.__name__ in minemap.__all__, cls
        assert getattr(minemap, cls.__name__) is cls


@pytest.mark.parametrize("name", errors.__all__)
def test_errors_inherit_the_root_and_a_built_in(name):
    cls = getattr(errors, name)
    assert issubclass(cls, errors.MinemapError)
    if cls is not errors.MinemapError:
        assert issubclass(cls, (ValueError, OSError, RuntimeError)), cls


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("minemap.mgrs", "MGRSError"),
        ("minemap.records", "RecordError"),
        ("minemap.records", "MisclosureError"),
        ("minemap.profile", "ProfileError"),
    ],
)
def test_old_import_paths_still_work(module, name):
    old = getattr(importlib.import_module(module), name)
    assert old is getattr(errors, name)
    assert old.__module__ == "minemap.errors"


def test_moved_errors_keep_their_bases_and_messages():
    assert issubclass(errors.MGRSError, ValueError)
    assert issubclass(errors.MisclosureError, errors.RecordError)
    assert issubclass(errors.RecordError, ValueError)
    assert issubclass(errors.ProfileError, errors.SchemaError)
    exc = errors.RecordError("r.json", ["point P2: no bearing", "point P3: no distance"])
    assert str(exc) == "r.json: point P2: no bearing; point P3: no distance"
    assert exc.problems == ["point P2: no bearing", "point P3: no distance"]
    exc = errors.ProfileError("p.toml", 3, "unknown key 'x'")
    assert (str(exc), exc.path, exc.line, exc.problem) == (
        "p.toml, line 3: unknown key 'x'",
        "p.toml",
        3,
        "unknown key 'x'",
    )
