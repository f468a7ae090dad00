"""Property tests for spreadsheets: what is written reads back as it was; garbage gives
minemap's own errors, never another exception (nor a crash of the Rust reader)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minemap import io as mio
from minemap import spreadsheet
from minemap.errors import MinemapError
from tests import sheets

SETTINGS = settings(
    max_examples=int(os.environ.get("MINEMAP_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Text as it comes from the field: Azerbaijani, Russian, formula signs, controls,
#: OOXML escapes written literally. (Not spaces alone: a reader sees an empty cell.)
TEXT = (
    st.lists(
        st.sampled_from(
            [
                *"AZaz09 _-=+@'\"\t\n\r\x00\x01\x1f",
                *"əğıöüçşƏĞİÖÜÇŞ",
                *"агдамЖЁ",
                *("_x0041_", "_x005F_", "\uff1d", "€"),
            ]
        ),
        min_size=1,
        max_size=12,
    )
    .map("".join)
    .filter(lambda s: s.strip())
)


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), TEXT),
            st.one_of(st.none(), st.integers(-(2**53) + 1, 2**53 - 1)),
            st.one_of(st.none(), st.floats(-1e300, 1e300)),
            st.one_of(st.none(), st.dates(dt.date(1950, 1, 1), dt.date(2100, 1, 1))),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_table_written_as_xlsx_reads_back_as_it_was(rows):
    table = pd.DataFrame(
        {
            "text": pd.Series([r[0] for r in rows], dtype=object),
            "count": pd.array([r[1] for r in rows], dtype="Int64"),
            "figure": pd.Series([np.nan if r[2] is None else r[2] for r in rows], dtype=float),
            "day": pd.to_datetime(pd.Series([r[3] for r in rows], dtype=object)),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = mio.write_table(table, Path(folder) / "t.xlsx", rounded=False)
        back = spreadsheet.read_cells(path)
    # Rows with no value at all are not data; the others come back cell for cell.
    table = table[table.notna().any(axis=1)].reset_index(drop=True)
    assert len(back) == len(table)
    if not len(table):
        return
    for column in table.columns:
        got = back[column].tolist() if column in back else [None] * len(table)
        for want, have in zip(table[column].tolist(), got, strict=True):
            if pd.isna(want):
                assert have is None or pd.isna(have)
            elif column == "day":
                assert pd.Timestamp(have) == want
            elif column == "figure":  # 16 significant digits (Excel shows 15, holds < 1e308)
                assert have == pytest.approx(want, rel=1e-15, abs=1e-300)
            else:
                assert have == want, (column, want, have)


def _workbook_bytes(data: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = sheets.xlsx(
            Path(folder) / "w.xlsx", {"s": ""}, extra={"xl/worksheets/sheet1.xml": data}
        )
        return path.read_bytes()


GOOD_SHEET = sheets.sheet_xml(
    sheets.rows_xml(
        [
            ["item_id", "found_on", "item_type", "longitude", "latitude"],
            ["I1", 45342, "AP", 46.9, 39.98],
        ]
    )
)


def _read(path: Path) -> None:
    try:
        loaded = mio.load_layers([path], "items")
    except MinemapError as exc:
        message = str(exc)
    else:
        assert loaded.read == len(loaded.kept) + len(loaded.rejected)
        return
    assert str(path) in message


@SETTINGS
@given(data=st.data())
def test_mutated_sheet_xml_gives_minemaps_errors_only(data):
    raw = bytearray(GOOD_SHEET.encode())
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.sampled_from([*b'<>/"=rcA9 :\x00\xff', 0x31]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.xlsx"
        path.write_bytes(_workbook_bytes(raw.decode("latin-1")))
        _read(path)


@SETTINGS
@given(
    reference=st.from_regex(r"\A[A-Z]{1,4}[0-9]{1,9}\Z"),
    quote=st.sampled_from(['"', "'"]),
    before=st.sampled_from(["", ' s="0"', "\n"]),
)
def test_any_cell_reference_is_measured_or_refused_before_calamine(reference, quote, before):
    """However a far reference is written, calamine is never asked for a huge sheet."""
    data = sheets.sheet_xml(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>item_id</t></is></c></row>'
        f"<row><c{before} r={quote}{reference}{quote}><v>1</v></c></row>"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "far.xlsx"
        path.write_bytes(_workbook_bytes(data))
        _read(path)


@SETTINGS
@given(blob=st.binary(min_size=0, max_size=400), suffix=st.sampled_from([".xlsx", ".ods"]))
def test_random_bytes_and_random_archives(blob, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"r{suffix}"
        path.write_bytes(blob)
        _read(path)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("xl/workbook.xml", blob)
            archive.writestr("content.xml", blob)
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        _read(path)
