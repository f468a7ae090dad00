"""Text from input files, made safe to show: short, quoted, without control characters.

Every value a message quotes comes from a file someone else wrote: it may be
10 MB long, or hold terminal escape sequences (``ESC ] 0 ; title BEL`` retitles a
terminal, ``ESC ] 52`` writes the clipboard), carriage returns that overwrite
what was printed, or right-to-left overrides that reorder it. :func:`show`
quotes a value for a message (at most :data:`MAX_SHOWN` characters, with
an ellipsis and the full length); :func:`escape` makes any text printable
without quoting it. Both turn control characters into visible escapes.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["MAX_SHOWN", "escape", "escape_controls", "show"]

#: Longest part of a value a message quotes; longer values are cut, with an ellipsis.
MAX_SHOWN = 40

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode format
# characters that reorder or hide text (bidirectional overrides and isolates, the
# line and paragraph separators some terminals break lines on).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROLS_AND_NEWLINES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    char = match.group()
    if char == "\r":
        return "\\r"
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    code = ord(char)
    # \xNN for C0 controls and DEL (as Python writes them); \uNNNN above, which JSON
    # reads back as the same character (\x is not a JSON escape).
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with its control characters written as visible escapes.

    Tab and newline stay (unless ``keep_newlines`` is false); everything else a
    terminal would act on (ESC, BEL, CR, DEL, C1 controls, bidirectional
    overrides) becomes ``\\x1b``, ``\\r``, ``\\u202e``...

    Examples
    --------
    >>> escape_controls("Ağdam\\x1b]0;pwned\\x07")
    'Ağdam\\\\x1b]0;pwned\\\\x07'
    """
    pattern = _CONTROLS if keep_newlines else _CONTROLS_AND_NEWLINES
    return pattern.sub(_visible, text)


def escape(value, *, limit: int | None = MAX_SHOWN) -> str:
    """A value as plain text for a message (no quotes), cut to ``limit`` characters.

    Used for ids and names that a message shows unquoted (``hazard_id AG-0001``).

    Examples
    --------
    >>> escape("H-1")
    'H-1'
    >>> escape("x" * 100)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… (100 characters)'
    """
    text = _plain(value)
    cut = limit is not None and len(text) > limit
    shown = escape_controls(text[:limit] if cut else text, keep_newlines=False)
    return f"{shown}… ({len(text):,} characters)" if cut else shown


def show(value, *, limit: int = MAX_SHOWN) -> str:
    """A value as a user wrote it, for a message: text quoted, numbers plain.

    Text longer than ``limit`` characters is cut, with an ellipsis and its full
    length; control characters are escaped (``'\\x1b'``), so nothing a file
    holds can act on the terminal or flood the screen.

    Examples
    --------
    >>> show("31/02/2022")
    "'31/02/2022'"
    >>> show(1.5)
    '1.5'
    >>> show("a" * 10_000_000)
    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' (10,000,000 characters)"
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:g}"
    if not isinstance(value, str):
        return escape(value, limit=limit)
    cut = len(value) > limit
    quoted = repr(value[:limit] + ("…" if cut else ""))
    # repr escapes what str.isprintable() refuses; the rest (bidi overrides are not
    # all refused) is escaped here.
    quoted = escape_controls(quoted, keep_newlines=False)
    return f"{quoted} ({len(value):,} characters)" if cut else quoted


def _plain(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
