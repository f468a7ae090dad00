"""Spreadsheets: ``.xlsx`` and ``.ods`` read as tables of typed cells, ``.xlsx`` written.

Reading goes through python-calamine (Rust, fast), which reads the values a
spreadsheet program saved: formulas are never evaluated (a cell gives its
cached value, or nothing), external links are never followed. An ``.xlsx`` or
``.ods`` file is a ZIP archive of XML, and may be hostile; before calamine
sees it:

1. the archive's directory is checked: at most :data:`MAX_MEMBERS` members,
   :data:`MAX_UNPACKED_BYTES` unpacked in all, no member over 1 MiB that
   unpacks to more than :data:`MAX_RATIO` times its packed size (a zip bomb),
   no encrypted member;
2. the XML parts are unpacked (each checked against its CRC and its declared
   size) and handed to calamine as a new, uncompressed archive in memory, which
   holds only them (no macros, pictures, embedded objects or external links);
3. each sheet's extent (rows × columns, as calamine would lay the cells out) is
   measured from the XML first: a sheet over :data:`MAX_CELLS` cells, or wider
   than :data:`MAX_COLUMNS`, is refused (a 6 KB file naming cell XFD1048576
   would otherwise make calamine ask for 500 GB).

Cells keep their types: numbers are numbers (a column of whole numbers is read
as integers, so an id ``101`` is ``"101"``, never ``"101.0"``), dates are
dates, text is text. A number in a date column (``released_on``...) is an
Excel day number (:func:`excel_dates`).

Writing (:func:`write_xlsx`) uses openpyxl: a header row, frozen panes, figures
as numbers with a number format matching their rounding
(:func:`minemap.outputs.decimals`), dates as dates, text as text that can never
become a formula.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pandas as pd

from minemap import cells, outputs
from minemap import schema as s
from minemap._arguments import argument
from minemap.errors import InputFileError, OutputFileError

__all__ = [
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_MEMBERS",
    "MAX_RATIO",
    "MAX_UNPACKED_BYTES",
    "SHEET_ATTR",
    "SUFFIXES",
    "check_xlsx",
    "excel_dates",
    "read_cells",
    "sheet_names",
    "write_xlsx",
]

#: Spreadsheet formats minemap reads.
SUFFIXES = (".xlsx", ".ods")
#: Members an archive may hold.
MAX_MEMBERS = 10_000
#: Bytes all members may unpack to together (512 MiB: the XML of about 10 million cells).
MAX_UNPACKED_BYTES = 1 << 29
#: Largest unpacked/packed ratio of a member over :data:`_RATIO_FLOOR` bytes. XML
#: of real sheets packs 5 to 20 times; a zip bomb packs thousands of times.
MAX_RATIO = 100
_RATIO_FLOOR = 1 << 20
#: Cells a sheet may span (rows × columns, empty cells inside the used area included).
MAX_CELLS = 10_000_000
#: Columns a sheet may span (Excel's own limit).
MAX_COLUMNS = 16_384
#: Rows an ``.xlsx`` written by minemap may hold (Excel's limit, header included).
MAX_ROWS = 1_048_576
#: Characters an Excel cell holds.
MAX_CELL_TEXT = 32_767
#: Key in a frame's ``attrs`` marking it as read from a spreadsheet (see :func:`excel_dates`).
SHEET_ATTR = "minemap.spreadsheet"

_XLSX_MIME = b"application/vnd.openxmlformats-officedocument.spreadsheetml"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Excel's day 0 (the 1900 date system, with its leap-day bug) and the 1904 system's.
_EPOCH_1900 = pd.Timestamp("1899-12-30")
_EPOCH_1904 = pd.Timestamp("1904-01-01")
#: Day numbers read as dates in a date column: 1 Jan 1950 to 31 Dec 9999 (1900 system).
#: Smaller numbers (a year typed alone, 2022, is day 2022: 1905) stay numbers: errors.
_FIRST_SERIAL, _LAST_SERIAL = 18_264, 2_958_465


# --- the archive ----------------------------------------------------------------


class _Book:
    """A spreadsheet's XML parts, checked and unpacked, and what kind of file it is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.suffix = path.suffix.lower()
        self.parts = _unpack(path)
        self.kind = _kind_of(self.parts)
        if self.kind is None:
            raise InputFileError(
                path,
                f"is a ZIP archive but not a spreadsheet (no workbook in it); save it as "
                f"{self.suffix}",
            )
        if self.kind != self.suffix:
            raise InputFileError(
                path,
                f"content does not match its extension: it is {_FORMAT_NAMES[self.kind]} "
                f"({self.kind}), not {self.suffix}; minemap reads each format only under its "
                "own extension (rename it)",
            )
        self.date1904 = bool(
            re.search(
                rb"date1904\s*=\s*[\"'](?:1|true)[\"']", self.parts.get("xl/workbook.xml", b"")
            )
        )

    def archive(self) -> bytes:
        """The parts as a new ZIP in memory, uncompressed: what calamine reads."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
            if "mimetype" in self.parts:  # ODF: the first member, stored
                out.writestr("mimetype", self.parts["mimetype"])
            for name, data in self.parts.items():
                if name != "mimetype":
                    out.writestr(name, data)
        return buffer.getvalue()


_FORMAT_NAMES = {".xlsx": "an Excel workbook", ".ods": "an OpenDocument spreadsheet"}


def _is_part(name: str) -> bool:
    """The members calamine reads: XML and relationships (no macros, media, links)."""
    lower = name.lower()
    if lower.startswith("xl/externallinks/") or lower.endswith("/"):
        return False
    return lower == "mimetype" or lower.endswith((".xml", ".rels"))


def _unpack(path: Path) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with path.open("rb") as handle:
            head = handle.read(8)
        if head == _OLE_MAGIC:
            raise InputFileError(
                path,
                "is a password-protected workbook or an Excel 97-2003 (.xls) file, not an "
                ".xlsx: open it in Excel and save it as .xlsx (Excel Workbook) without a password",
            ) from None
        suffix = path.suffix.lower()
        raise InputFileError(
            path,
            f"is not a readable {suffix} file (a {suffix} is a ZIP archive: truncated, "
            "corrupt, or not really a spreadsheet?)",
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputFileError(
                path, f"holds {len(infos):,} members (more than {MAX_MEMBERS:,}): not a workbook"
            )
        total = sum(info.file_size for info in infos)
        if total > MAX_UNPACKED_BYTES:
            raise InputFileError(
                path,
                f"unpacks to {total / 2**20:,.0f} MiB (more than "
                f"{MAX_UNPACKED_BYTES / 2**20:,.0f} MiB): too large to read; split the workbook",
            )
        for info in infos:
            if info.flag_bits & 0x1:
                raise InputFileError(path, "holds encrypted parts: save it without a password")
            if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise InputFileError(
                    path,
                    f"member {_shown(info.filename)} unpacks to "
                    f"{info.file_size / 2**20:,.0f} MiB from "
                    f"{info.compress_size / 2**10:,.0f} KiB (more than {MAX_RATIO} times): "
                    "a zip bomb, not a workbook; refused",
                )
        parts = {}
        for info in infos:
            if not _is_part(info.filename):
                continue
            try:
                # zipfile unpacks exactly the declared size and checks the CRC.
                parts[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                problem = _said(exc, 80)
                raise InputFileError(
                    path, f"member {_shown(info.filename)} is damaged ({problem})"
                ) from None
    return parts


def _said(exc: BaseException, limit: int = 120) -> str:
    """What an exception says, on one line, printable, cut short."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def _shown(name: str) -> str:
    """A member name for a message: quoted, shortened, no control characters."""
    text = "".join(c if c.isprintable() else "?" for c in name)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _kind_of(parts: dict[str, bytes]) -> str | None:
    if parts.get("mimetype", b"").strip() == _ODS_MIME and "content.xml" in parts:
        return ".ods"
    types = parts.get("[Content_Types].xml", b"")
    if "xl/workbook.xml" in parts and (_XLSX_MIME in types or not types):
        return ".xlsx"
    if "content.xml" in parts and b"office:spreadsheet" in parts["content.xml"]:
        return ".ods"
    return None


# --- how far a sheet reaches: measured before calamine lays it out --------------


def _letters(column: bytes | str) -> int:
    """``A`` -> 1, ``Z`` -> 26, ``AA`` -> 27."""
    number = 0
    for char in column.upper() if isinstance(column, str) else column.decode().upper():
        number = number * 26 + (ord(char) - 64)
    return number


_CELL_REF_TEXT = re.compile(r"^\s*([A-Za-z]{1,3})([0-9]{1,10})\s*$")
#: Bytes that may continue an XML name (so ``<cols`` is not a cell, ``<c `` is).
_NAME_BYTE = np.zeros(256, dtype=bool)
for _chars in (b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"0123456789._-:"):
    _NAME_BYTE[list(_chars)] = True
_NAME_BYTE[128:] = True  # non-ASCII name characters
#: Bytes that may end a start tag's name or an attribute value: space, /, >.
_TAG_END = np.zeros(256, dtype=bool)
_TAG_END[list(b" \t\r\n/>")] = True
_REF_WIDTH = 11  # three letters, seven digits, the closing quote


def _xlsx_extent(data: bytes) -> tuple[int, int, int]:
    """(rows, columns, cells) a worksheet's cells span, as calamine places them.

    Every program that writes .xlsx gives each cell its reference first
    (``<c r="B7"``): then the references alone say where the cells go, read
    for all cells at once (numpy over the bytes: a 26 MB sheet in a tenth of a
    second). Anything else (a cell without a reference, or with it later or in
    other quotes, a namespace prefix) is followed cell by cell, as calamine
    does (:func:`_xlsx_extent_parsed`).
    """
    a = np.frombuffer(data + b"\0" * (_REF_WIDTH + 8), dtype=np.uint8)
    size = len(data)
    colons = np.flatnonzero((a[: size - 1] == ord(":")) & (a[1:size] == ord("c")))
    if _TAG_END[a[colons + 2]].any():
        return _xlsx_extent_parsed(data)  # a namespace prefix (or text that looks like one)
    starts = np.flatnonzero((a[: size - 1] == ord("<")) & (a[1:size] == ord("c")))
    tags = starts[~_NAME_BYTE[a[starts + 2]]]
    if not len(tags):
        return 0, 0, 0
    attribute = a[tags[:, None] + np.arange(2, 6)]
    if not (attribute == np.frombuffer(b' r="', dtype=np.uint8)).all():
        return _xlsx_extent_parsed(data)
    ref = a[tags[:, None] + np.arange(6, 6 + _REF_WIDTH)]
    letters = np.argmin((ref[:, :4] - ord("A")) < 26, axis=1)  # uint8: wraps below "A"
    if not ((letters >= 1) & (letters <= 3)).all():
        return _xlsx_extent_parsed(data)
    rows_min, rows_max, columns = None, None, set()
    for k in (1, 2, 3):
        group = letters == k
        if not group.any():
            continue
        part = ref[group]
        digits = part[:, k : k + 8] - ord("0")
        count = np.argmin(digits < 10, axis=1)  # digits, then the closing quote
        index = np.arange(len(part))
        after = a[tags[group] + 6 + k + count + 1]
        if not (
            ((count >= 1) & (count <= 7)).all()
            and (part[index, k + count] == ord('"')).all()
            and _TAG_END[after].all()
            and (digits[:, 0] != 0).all()
        ):
            return _xlsx_extent_parsed(data)
        value = (digits.astype(np.int64) * _POWERS[count]).sum(axis=1)
        low, high = int(value.min()), int(value.max())
        rows_min = low if rows_min is None else min(rows_min, low)
        rows_max = high if rows_max is None else max(rows_max, high)
        code = np.zeros(len(part), dtype=np.int64)
        for j in range(k):
            code = code * 256 + part[:, j]
        columns.update(
            _letters(bytes(int(c >> (8 * (k - 1 - j))) & 255 for j in range(k)))
            for c in np.unique(code)
        )
    return rows_max - rows_min + 1, max(columns) - min(columns) + 1, len(tags)


#: ``_POWERS[n][i]``: the weight of the i-th digit of an n-digit number (0 past its end).
_POWERS = np.array(
    [[10 ** (n - 1 - i) if i < n else 0 for i in range(8)] for n in range(9)], dtype=np.int64
)


def _parser() -> expat.XMLParserType:
    parser = expat.ParserCreate()

    def refuse(*_args):
        raise ValueError("a document type declaration (not in spreadsheets)")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    return parser


def _xlsx_extent_parsed(data: bytes) -> tuple[int, int, int]:
    """:func:`_xlsx_extent` the slow way: every row and cell element, in order."""
    state = {"row": 0, "col": 0, "rmin": None, "rmax": 0, "cmin": None, "cmax": 0, "n": 0}

    def start(name, attrs):
        local = name.rpartition(":")[2]
        if local == "row":
            if "r" in attrs:
                state["row"] = int(attrs["r"]) - 1
        elif local == "c":
            ref = attrs.get("r")
            if ref is not None:
                match = _CELL_REF_TEXT.match(ref)
                if match is None:
                    raise ValueError(f"cell reference {ref[:20]!r} not understood")
                row, col = int(match.group(2)) - 1, _letters(match.group(1)) - 1
                state["col"] = col
            else:
                row, col = state["row"], state["col"]
            state["col"] += 1
            state["n"] += 1
            state["rmin"] = row if state["rmin"] is None else min(state["rmin"], row)
            state["cmin"] = col if state["cmin"] is None else min(state["cmin"], col)
            state["rmax"], state["cmax"] = max(state["rmax"], row), max(state["cmax"], col)

    def end(name):
        if name.rpartition(":")[2] == "row":
            state["row"] += 1
            state["col"] = 0

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(data, True)
    if state["rmin"] is None:
        return 0, 0, 0
    return (
        state["rmax"] - state["rmin"] + 1,
        state["cmax"] - state["cmin"] + 1,
        state["n"],
    )


_ODS_VALUE = (
    "office:value-type",
    "office:value",
    "office:string-value",
    "office:date-value",
    "office:time-value",
    "office:boolean-value",
    "table:formula",
)


def _ods_extents(data: bytes) -> list[tuple[str, int, int, int]]:
    """(sheet, rows, columns, cells stored) of every sheet of an ODS ``content.xml``.

    Followed as calamine lays the cells out (it reads every sheet when it opens
    the file): repeated rows and cells (``number-rows-repeated``,
    ``number-columns-repeated``) count as many times as they are repeated,
    except a row's last run of empty cells and the empty rows after the last
    row with a value. Rows may sit in row groups or header rows; what is inside
    a cell (a sub-table) is not a row of the sheet.
    """
    sheets: list[tuple[str, int, int, int]] = []
    table: dict | None = None
    row: dict | None = None
    inside_cell = 0  # depth inside the current cell: its content is not the sheet's

    def start(name, attrs):
        nonlocal table, row, inside_cell
        if inside_cell:
            inside_cell += 1
            return
        if name == "table:table" and table is None:
            table = {
                "name": attrs.get("table:name", ""),
                "index": 0,
                "first": None,
                "last": 0,
                "width": 0,
                "stored": 0,
            }
        elif table is not None and name == "table:table-row" and row is None:
            repeats = _count(attrs.get("table:number-rows-repeated", "1"))
            row = {"repeats": repeats, "pushed": 0, "pending": 0, "extent": 0}
        elif table is not None and row is not None and name in _ODS_CELLS:
            _ods_cell(table, row, attrs)
            inside_cell = 1

    def end(name):
        nonlocal table, row, inside_cell
        if inside_cell:
            inside_cell -= 1
            return
        if table is None:
            return
        if name == "table:table-row" and row is not None:
            _ods_row_end(table, row)
            row = None
        elif name == "table:table":
            rows = 0 if table["first"] is None else table["last"] - table["first"]
            sheets.append((table["name"], rows, table["width"], table["stored"]))
            table = None

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(data, True)
    return sheets


def _ods_cell(table: dict, row: dict, attrs: dict) -> None:
    """Count a cell (repeated ``number-columns-repeated`` times) into its row.

    Empty cells are stored only if a cell follows them in the row; a row of more
    than :data:`MAX_COLUMNS` stored cells is refused.
    """
    repeats = _count(attrs.get("table:number-columns-repeated", "1"))
    row["pushed"] += row["pending"]  # empty cells before this one are stored
    row["pending"] = 0
    if any(key in attrs for key in _ODS_VALUE):
        row["pushed"] += repeats
        row["extent"] = row["pushed"]
    else:
        row["pending"] = repeats  # stored only if a cell follows
    if row["pushed"] > MAX_COLUMNS:
        raise _TooLargeError(table["name"], f"a row of more than {MAX_COLUMNS:,} cells")


def _ods_row_end(table: dict, row: dict) -> None:
    """Count a finished row (repeated ``number-rows-repeated`` times) into its sheet.

    The sheet's extent runs from its first to its last row with a value; a sheet
    storing, or spanning, more than :data:`MAX_CELLS` cells is refused.
    """
    table["stored"] += row["pushed"]
    if row["extent"]:
        if table["first"] is None:
            table["first"] = table["index"]
        table["last"] = table["index"] + row["repeats"]
        table["width"] = max(table["width"], row["extent"])
    table["index"] += row["repeats"]
    span = table["last"] - (table["first"] or 0)
    if table["stored"] > MAX_CELLS or span * table["width"] > MAX_CELLS:
        raise _TooLargeError(table["name"], f"more than {MAX_CELLS:,} cells")


_ODS_CELLS = ("table:table-cell", "table:covered-table-cell")


class _TooLargeError(Exception):
    def __init__(self, sheet: str, what: str) -> None:
        super().__init__(sheet, what)
        self.sheet, self.what = sheet, what


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"a repeat count of {value}")
    return value


def _xlsx_sheet_parts(book: _Book) -> dict[str, str]:
    """Worksheet part -> sheet name, as far as the workbook's relationships say."""
    rels = book.parts.get("xl/_rels/workbook.xml.rels", b"")
    targets = {}
    for match in re.finditer(rb"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        attrs = dict(re.findall(rb'(\w+)\s*=\s*"([^"]*)"', match.group(1)))
        if b"Id" in attrs and b"Target" in attrs:
            target = attrs[b"Target"].decode("utf-8", "replace")
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[attrs[b"Id"].decode("utf-8", "replace")] = target
    names = {}
    for match in re.finditer(rb"<(?:\w+:)?sheet\b([^>]*)>", book.parts.get("xl/workbook.xml", b"")):
        attrs = dict(re.findall(rb'([\w:]+)\s*=\s*"([^"]*)"', match.group(1)))
        rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        if rid is not None and b"name" in attrs:
            target = targets.get(rid.decode("utf-8", "replace"))
            if target is not None:
                names[target] = attrs[b"name"].decode("utf-8", "replace")
    return names


def _check_extents(book: _Book) -> None:
    """Refuse a sheet calamine would lay out over :data:`MAX_CELLS` cells."""
    path = book.path
    try:
        if book.kind == ".ods":
            extents = _ods_extents(book.parts["content.xml"])
        else:
            named = _xlsx_sheet_parts(book)
            extents = []
            for part, data in book.parts.items():
                if b"sheetData" in data:
                    rows, columns, stored = _xlsx_extent(data)
                    extents.append((named.get(part, part), rows, columns, stored))
    except _TooLargeError as exc:
        raise InputFileError(path, _too_large(exc.sheet, exc.what)) from None
    except (ValueError, expat.ExpatError) as exc:
        raise InputFileError(
            path, f"its XML cannot be read ({_said(exc, 100)}): damaged?"
        ) from None
    for sheet, rows, columns, stored in extents:
        if columns > MAX_COLUMNS:
            raise InputFileError(path, _too_large(sheet, f"{columns:,} columns"))
        if rows * columns > MAX_CELLS or stored > MAX_CELLS:
            raise InputFileError(path, _too_large(sheet, f"{rows:,} rows × {columns:,} columns"))


def _too_large(sheet: str, what: str) -> str:
    return (
        f"sheet {_shown(sheet)} spans {what}: more than minemap reads from one sheet "
        f"({MAX_CELLS:,} cells, {MAX_COLUMNS:,} columns); a stray cell far from the data "
        "(delete the empty rows and columns after it) or a table to split into files?"
    )


# --- reading --------------------------------------------------------------------


def _workbook(path: Path):
    import python_calamine

    book = _Book(path)
    _check_extents(book)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(book.archive()))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors, and its panics: a damaged workbook
        raise InputFileError(path, f"cannot be read as a spreadsheet ({_said(exc)})") from None
    return book, workbook


def sheet_names(path) -> list[str]:
    """The sheets of an ``.xlsx`` or ``.ods`` file, in workbook order."""
    path = Path(path)
    _, workbook = _workbook(path)
    return list(workbook.sheet_names)


def _choose(path: Path, workbook, sheet: str | None) -> str:
    names = list(workbook.sheet_names)
    if not names:
        raise InputFileError(path, "holds no sheet")
    if sheet is not None:
        if sheet in names:
            return sheet
        folded = [n for n in names if n.casefold() == str(sheet).casefold()]
        if len(folded) == 1:
            return folded[0]
        listed = ", ".join(_shown(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
        raise InputFileError(
            path,
            f"has no sheet {_shown(str(sheet))}; its sheets are: {listed} "
            f"(choose one with {argument('layer')})",
        )
    try:
        import python_calamine

        visible = [
            m.name
            for m in workbook.sheets_metadata
            if m.visible == python_calamine.SheetVisibleEnum.Visible
            and m.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
    except AttributeError:  # an older python-calamine without metadata
        visible = []
    return visible[0] if visible else names[0]


def read_cells(path, sheet: str | None = None) -> pd.DataFrame:
    """One sheet as a table: the first row names the columns, each cell as typed.

    Parameters
    ----------
    path
        An ``.xlsx`` or ``.ods`` file.
    sheet
        The sheet's name (``--layer SHEET``); by default the first (visible) one.

    Returns
    -------
    DataFrame
        One row per non-empty row below the header. Numbers are numbers (whole
        numbers as integers), dates are dates, text is text; a column mixing
        them keeps each cell as typed. ``attrs[SHEET_ATTR]`` says the sheet and
        the workbook's date system.
    """
    path = Path(path)
    book, workbook = _workbook(path)
    name = _choose(path, workbook, sheet)
    try:
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=True)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors, and its panics
        raise InputFileError(
            path,
            f"sheet {_shown(name)} cannot be read ({_said(exc)})",
        ) from None
    table = _table(rows)
    table.attrs[SHEET_ATTR] = {"sheet": name, "date1904": book.date1904}
    return table


def _header(values: Sequence) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for position, value in enumerate(values):
        text = cells._cell_text(value)
        if isinstance(value, dt.date | dt.datetime):
            text = value.isoformat()
        text = (text or "").strip() or f"column {_column_letters(position + 1)}"
        name, n = text, 2
        while name.casefold() in seen:
            name, n = f"{text}_{n}", n + 1
        seen.add(name.casefold())
        names.append(name)
    return names


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _table(rows: list[list]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    names = _header(rows[0])
    if len(rows) == 1:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    # One object array (C loops); calamine gives "" for an empty cell.
    cells = np.empty((len(rows) - 1, len(names)), dtype=object)
    cells[:] = rows[1:]
    empty = cells == ""
    keep = ~empty.all(axis=1)  # a row with no value is not a feature
    if not keep.all():
        cells, empty = cells[keep], empty[keep]
    return pd.DataFrame({n: _typed(cells[:, j], empty[:, j]) for j, n in enumerate(names)})


def _typed(values: np.ndarray, empty: np.ndarray) -> pd.Series:
    """A column of cells with the type its cells share, or each cell's own type."""
    if empty.any():
        values = values.copy()
        values[empty] = None
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:
        return pd.Series(values, dtype=object)
    if kinds <= {int, float}:
        numbers = np.where(empty, np.nan, values).astype(float)
        present = ~empty
        finite = numbers[present]
        if np.all(np.isfinite(finite) & (finite == np.round(finite)) & (np.abs(finite) < 2.0**53)):
            whole = np.where(present, numbers, 0).astype(np.int64)
            return pd.Series(pd.arrays.IntegerArray(whole, ~present))
        return pd.Series(numbers)
    if kinds == {str}:
        return pd.Series(values, dtype=object)
    if kinds <= {dt.date, dt.datetime}:
        try:
            return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)))
        except (ValueError, OverflowError, TypeError, pd.errors.OutOfBoundsDatetime):
            return pd.Series(values, dtype=object)
    # Mixed: each cell as typed; whole numbers as integers, so an id reads "101".
    out = [
        int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 2.0**53 else v
        for v in values
    ]
    return pd.Series(out, dtype=object)


def excel_dates(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Day numbers in a spreadsheet's date columns as dates.

    Excel stores a date as a number of days (45342 is 2024-02-20) and shows it
    as a date through the cell's format; a cell whose format was lost shows the
    number. In a column minemap reads as a date (``released_on``, ``found_on``,
    ``submitted_on``), a number from 18264 (1 January 1950) to 2958465 (31
    December 9999) is that day, in the workbook's date system (1900 or 1904);
    any other number stays a number (and is an error: a year typed alone,
    2022, is not a date). Frames not read from a spreadsheet are returned as
    they are.
    """
    info = frame.attrs.get(SHEET_ATTR)
    if not info:
        return frame
    epoch = _EPOCH_1904 if info.get("date1904") else _EPOCH_1900
    shift = 1462 if info.get("date1904") else 0  # the 1904 system counts 1462 days fewer
    out = None
    for column in s.DATE_COLUMNS.get(kind, ()):
        if column not in frame.columns:
            continue
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            continue
        raw = values.to_numpy(dtype=object)
        numeric = np.array(
            [
                isinstance(v, int | float | np.integer | np.floating)
                and not isinstance(v, bool)
                and not pd.isna(v)
                for v in raw
            ],
            dtype=bool,
        )
        if not numeric.any():
            continue
        days = np.array([float(v) if n else np.nan for v, n in zip(raw, numeric, strict=True)])
        usable = numeric & (days + shift >= _FIRST_SERIAL) & (days + shift <= _LAST_SERIAL)
        if not usable.any():
            continue
        converted = raw.copy()
        stamps = epoch + pd.to_timedelta(np.floor(days[usable]), unit="D")
        converted[usable] = list(stamps)
        if out is None:
            out = frame.copy()
        column_values = pd.Series(converted, index=frame.index, dtype=object)
        if all(isinstance(v, pd.Timestamp) or v is None or v is pd.NaT for v in converted):
            column_values = pd.to_datetime(column_values)
        out[column] = column_values
    return frame if out is None else out


# --- writing --------------------------------------------------------------------

_NUMBER_FORMATS = {0: "#,##0", 1: "#,##0.0", 2: "#,##0.00", 3: "0.000"}
_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _number_format(column: str, values: pd.Series) -> str | None:
    places = outputs.decimals(column)
    if places is not None:
        return _NUMBER_FORMATS.get(places, "0." + "0" * places if places > 0 else "0")
    if pd.api.types.is_integer_dtype(values.dtype):
        return "0"
    return None  # Excel's General: the number as it is


def _sheet_title(path: Path) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", path.stem).strip("'") or "table"
    return title[:31]


#: Characters XML cannot hold (controls, lone surrogates, U+FFFE/U+FFFF), and an
#: underscore that would read as the start of OOXML's ``_xHHHH_`` escape.
#: A carriage return too: XML readers turn it into a line feed (Excel writes ``_x000D_``).
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")


def _ooxml_text(text: str) -> str:
    """Text as an .xlsx cell holds it: what XML cannot hold as OOXML's ``_xHHHH_`` escape.

    Excel (and calamine) read ``_x0001_`` back as the character U+0001, and
    ``_x005F_`` as ``_``: every text comes back as it was.
    """
    return _UNWRITABLE.sub(
        lambda m: "_x005F_" if m.group() == "_" else f"_x{ord(m.group()):04X}_", text
    )


def _cell_value(value):
    """A value openpyxl writes as what it is (numbers, dates, text; None for missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool | int | float | str | dt.date | dt.datetime | dt.time):
        return value
    return str(value)


def write_xlsx(
    table: pd.DataFrame,
    path,
    *,
    overwrite: bool = False,
    rounded: bool = True,
) -> Path:
    """Write a table as an ``.xlsx`` workbook, atomically, and read it back.

    One sheet named after the file: a bold header row, frozen below it, with
    an auto-filter; figures as numbers, rounded to what they mean
    (:func:`minemap.outputs.round_figures`, unless ``rounded=False``) and
    shown with that many decimals; dates as dates; text as text. A text cell
    (or column name) that a spreadsheet would take for a formula (it starts
    with ``=``, ``+``, ``-``, ``@``...: :data:`minemap.outputs.FORMULA_STARTS`)
    is written as text with Excel's quote prefix, so it stays text even when
    edited, and keeps its value. A text over 32,767 characters (what a cell
    holds) or more than 1,048,575 rows is an error before anything is written.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    path = Path(path)
    if rounded:
        table = outputs.round_figures(table, others=6)
    table = pd.DataFrame(table).copy()
    table.attrs = {}
    if len(table) + 1 > MAX_ROWS:
        raise OutputFileError(
            path,
            f"not written: {len(table):,} rows are more than an .xlsx sheet holds "
            f"({MAX_ROWS - 1:,} below the header); write .csv",
        )
    columns = [str(c) for c in table.columns]
    long = _long_cell(table)
    if long is not None:
        row, column, size = long
        raise OutputFileError(
            path,
            f"not written: row {row} of column {column!r} holds {size:,} characters, more "
            f"than an Excel cell holds ({MAX_CELL_TEXT:,}); write .csv (or .gpkg for a layer)",
        )
    formats = [_number_format(c, table[c]) for c in columns]
    dates = [pd.api.types.is_datetime64_any_dtype(table[c].dtype) for c in columns]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(path))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value, number_format=None, font=None):
        written = WriteOnlyCell(sheet, value=None)
        value = _cell_value(value)
        if isinstance(value, str):
            written.value = _ooxml_text(value)
            written.data_type = "s"  # text, never a formula, whatever it starts with
            if outputs.starts_formula(value):
                written.quotePrefix = True
        else:
            written.value = value
            if isinstance(value, dt.datetime):
                written.number_format = (
                    _DATETIME_FORMAT if value.time() != dt.time() else (_DATE_FORMAT)
                )
            elif isinstance(value, dt.date):
                written.number_format = _DATE_FORMAT
            elif number_format is not None and isinstance(value, int | float):
                written.number_format = number_format
        if font is not None:
            written.font = font
        return written

    for position, name in enumerate(columns, start=1):
        width = max([len(name), *(len(str(v)) for v in table.iloc[:200, position - 1])])
        sheet.column_dimensions[_column_letters(position)].width = min(max(width + 2, 8), 60)
    if columns:
        sheet.auto_filter.ref = f"A1:{_column_letters(len(columns))}{len(table) + 1}"
    sheet.append([cell(name, font=bold) for name in columns])
    arrays = [table[c].to_numpy(dtype=object) for c in columns]
    for i in range(len(table)):
        sheet.append(
            [
                cell(a[i], f if not d else None)
                for a, f, d in zip(arrays, formats, dates, strict=True)
            ]
        )
    # A row with no value (or only spaces) may hold no cell a reader sees: the sheet
    # can end before it, never before the last row with a value.
    solid = table.map(lambda v: not (isinstance(v, str) and not v.strip())) & table.notna()
    filled = solid.any(axis=1).to_numpy() if len(columns) else np.zeros(0, dtype=bool)
    least = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    count = len(table)
    with outputs.atomic_output(
        path, overwrite=overwrite, check=lambda p: check_xlsx(p, columns, count, least=least)
    ) as tmp:
        workbook.save(tmp)
    return path


def _long_cell(table: pd.DataFrame) -> tuple[int, str, int] | None:
    for column in table.columns:
        values = table[column]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue
        lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0, na_action="ignore")
        lengths = lengths.fillna(0).to_numpy(dtype=np.int64)
        if len(lengths) and lengths.max() > MAX_CELL_TEXT:
            i = int(np.argmax(lengths))
            return i + 1, str(column), int(lengths[i])
    return None


def check_xlsx(path: Path, columns: Sequence[str], rows: int, *, least: int | None = None) -> None:
    """An ``.xlsx`` written by :func:`write_xlsx` reads back: its header and its rows.

    ``rows`` were written; the sheet may end after ``least`` of them (rows with
    no value after the last that has one hold no cell a reader sees).
    """
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    data = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    header = [str(v) for v in data[0]] if data else []
    if header != list(columns):
        raise ValueError("its header is not the one written")
    read = max(len(data) - 1, 0)
    if not (rows if least is None else least) <= read <= rows:
        raise ValueError(f"{read} rows read back, {rows} written")
