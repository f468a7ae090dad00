"""One layer order for the public API, and the old orders kept for one release.

Functions taking several layers take them as ``hazards, releases, districts``
(then the others, such as ``items``), then keyword-only options. Functions whose
order changed are wrapped by :func:`layer_order`: a call in the old order is
recognised by the columns of the frames it passes (a frame with ``released_on``
where hazards are expected, one with ``item_id`` or ``found_on`` where releases
are expected), put in the new order, and answered with a ``DeprecationWarning``
that shows the new order. A frame of the wrong kind in both orders is a
:class:`~minemap.errors.SchemaError`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from minemap import schema as s
from minemap.errors import SchemaError

__all__ = ["layer_kind", "layer_order"]

F = TypeVar("F", bound=Callable[..., Any])

# Columns that only one kind of layer has, looked for in this order: items may
# name their release (``release_id``) and releases their hazard (``hazard_id``).
_MARKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("items", (s.ITEM_ID, s.FOUND_ON, s.ITEM_TYPE)),
    ("releases", (s.RELEASED_ON, s.RELEASE_ID, s.METHOD)),
    ("hazards", (s.HAZARD_ID, s.MINES_AP, s.MINES_AT)),
)


def layer_kind(frame: object) -> str | None:
    """The kind of layer a frame looks like, from its columns.

    Parameters
    ----------
    frame
        A (Geo)DataFrame, or anything else (``None`` included).

    Returns
    -------
    str or None
        ``"items"``, ``"releases"`` or ``"hazards"``; ``None`` when the frame
        has none of the columns that tell (or is not a frame).
    """
    columns = getattr(frame, "columns", None)
    if columns is None:
        return None
    names = set(map(str, columns))
    for kind, marks in _MARKS:
        if names.intersection(marks):
            return kind
    return None


def _mismatches(bound: Mapping[str, object], kinds: Mapping[str, str]) -> list[str]:
    """The parameters of ``bound`` holding a frame of another kind than expected."""
    wrong = []
    for name, value in bound.items():
        kind = layer_kind(value)
        if name in kinds and kind is not None and kind != kinds[name]:
            wrong.append(f"{name} looks like {kind} (columns {_telling(value, kind)})")
    return wrong


def _telling(frame: object, kind: str) -> str:
    """The columns that made ``frame`` look like ``kind``."""
    names = set(map(str, getattr(frame, "columns", ())))
    return ", ".join(m for k, ms in _MARKS if k == kind for m in ms if m in names)


def layer_order(
    new: tuple[str, ...], old: tuple[str, ...], kinds: Mapping[str, str]
) -> Callable[[F], F]:
    """Accept a function's old positional layer order for one release.

    Parameters
    ----------
    new
        Names of the positional layer parameters, in the function's (new) order.
    old
        The same names in the old order.
    kinds
        Parameter name to the layer kind it takes (see :func:`layer_kind`);
        parameters not named here are not checked.

    Returns
    -------
    callable
        A decorator. The wrapped function keeps its signature
        (``inspect.signature`` follows ``__wrapped__``).
    """

    def decorate(func: F) -> F:
        name = func.__name__
        new_call = f"{name}({', '.join(new)}, ...)"

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            layers, rest = args[: len(new)], args[len(new) :]
            as_new = {**dict(zip(new, layers, strict=False)), **kwargs}
            as_old = {**dict(zip(old, layers, strict=False)), **kwargs}
            keywords = set(kwargs)
            # A layer named both by position (new order) and by keyword is the old order.
            clash_new = bool(keywords.intersection(new[: len(layers)]))
            clash_old = bool(keywords.intersection(old[: len(layers)]))
            wrong_new = ["twice"] if clash_new else _mismatches(as_new, kinds)
            if not wrong_new:
                return func(*args, **kwargs)
            wrong_old = ["twice"] if clash_old else _mismatches(as_old, kinds)
            moved = list(old[: len(layers)]) != list(new[: len(layers)])
            if not wrong_old and moved and not rest:
                warnings.warn(
                    f"{name}() takes its layers in the order {new_call}; "
                    f"the old order {name}({', '.join(old)}, ...) is deprecated and will "
                    "stop working in the next release: pass them in the new order or by keyword",
                    DeprecationWarning,
                    stacklevel=2,
                )
                ordered = {n: as_old[n] for n in new if n in as_old}
                others = {k: v for k, v in kwargs.items() if k not in ordered}
                return func(**ordered, **others)
            if clash_new or rest:
                # Neither order binds: let Python say so (a layer given twice, too many).
                return func(*args, **kwargs)
            raise SchemaError(
                f"{name}(): {'; '.join(wrong_new)}. It takes its layers in the order "
                f"{new_call}: pass each frame in its place or by keyword "
                f"({', '.join(f'{n}=' for n in new)})"
            )

        return wrapper  # type: ignore[return-value]

    return decorate
