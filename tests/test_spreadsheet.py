"""Spreadsheets in (.xlsx, .ods) and out (.xlsx): typed cells, sheets, hostile workbooks."""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from pathlib import Path

import click
import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import minemap as mm
from minemap import io as mio
from minemap import mgrs, spreadsheet
from minemap import schema as s
from minemap.cli import main
from minemap.commands._common import OutputFile
from minemap.errors import InputFileError, OutputFileError
from tests import sheets

DATA = Path(__file__).parent / "data"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
DISTRICTS = str(DATA / "small_districts.geojson")

ITEMS = [
    # id as a number (Excel), found_on as a date cell, type, coordinates, model in Azerbaijani
    (101, dt.date(2024, 2, 22), "AP", 46.9051, 39.9853, "PMN-2 (sovet istehsalı)"),
    (102, dt.date(2024, 2, 23), "AT", 46.9152, 39.9854, "TM-62M"),
    (103, dt.date(2024, 3, 1), "UXO", 46.9253, 39.9855, "Minaatan mərmisi 82 mm"),
]
HEADER = ["item_id", "found_on", "item_type", "longitude", "latitude", "model"]


def _excel_items(path: Path, rows=ITEMS, sheet="Tapılanlar") -> Path:
    """A device list as Excel saves it: numbers as numbers, dates as formatted dates."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(HEADER)
    for row in rows:
        ws.append(list(row))
    for cells in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        cells[0].number_format = "dd.mm.yyyy"
    workbook.save(path)
    return path


def _csv_items(path: Path) -> Path:
    lines = [",".join(HEADER)]
    lines += [f"{i},{d:%Y-%m-%d},{t},{x},{y},{m}" for i, d, t, x, y, m in ITEMS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert a[s.ITEM_ID].tolist() == b[s.ITEM_ID].tolist()
    assert a[s.FOUND_ON].tolist() == b[s.FOUND_ON].tolist()
    assert a[s.ITEM_TYPE].tolist() == b[s.ITEM_TYPE].tolist()
    assert a["model"].tolist() == b["model"].tolist()
    assert all(x.equals_exact(y, 1e-12) for x, y in zip(a.geometry, b.geometry, strict=True))


# --- reading -----------------------------------------------------------------------


def test_an_excel_device_list_reads_like_the_same_csv(tmp_path):
    from_excel = mm.read_items(_excel_items(tmp_path / "items.xlsx"))
    from_csv = mm.read_items(_csv_items(tmp_path / "items.csv"))
    _same(from_excel, from_csv)
    assert from_excel[s.ITEM_ID].tolist() == ["101", "102", "103"]  # never "101.0"
    assert from_excel[s.FOUND_ON].tolist()[0] == pd.Timestamp("2024-02-22")


def test_an_ods_from_libreoffice_reads_like_the_xlsx(tmp_path):
    frame = pd.DataFrame(ITEMS, columns=HEADER)
    frame[s.FOUND_ON] = pd.to_datetime(frame[s.FOUND_ON])
    path = tmp_path / "items.ods"
    frame.to_excel(path, index=False, engine="odf", sheet_name="Tapılanlar")
    _same(mm.read_items(path), mm.read_items(_excel_items(tmp_path / "items.xlsx")))


def test_cells_keep_their_types(tmp_path):
    rows = [
        ["hazard_id", "mines_ap", "mines_at", "note", "wkt"],
        [101, 3, 0, "açıq", shapely.box(46.9, 39.98, 46.91, 39.99).wkt],
        ["AG-7", "?", 1.0, 12.5, shapely.box(46.92, 39.98, 46.93, 39.99).wkt],
    ]
    path = sheets.xlsx(tmp_path / "h.xlsx", {"Sahələr": sheets.rows_xml(rows)})
    table = spreadsheet.read_cells(path)
    assert table["hazard_id"].tolist() == [101, "AG-7"]  # a whole number as an integer
    assert table["mines_at"].dtype == "Int64"  # 0 and 1.0: whole numbers
    assert table["mines_ap"].tolist() == [3, "?"]
    assert table["note"].tolist() == ["açıq", 12.5]
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    # '?' is a count not known (a warning), never 0 and never an error.
    assert loaded.kept[s.HAZARD_ID].tolist() == ["101", "AG-7"]
    assert loaded.kept[s.MINES_AP].isna().tolist() == [False, True]
    assert loaded.kept[s.MINES_AP].iloc[0] == 3
    assert not loaded.errors
    assert [p.rule for p in loaded.problems] == ["unknown-count"]
    assert "'?'" in loaded.problems[0].message


def test_a_count_cell_that_is_no_number_is_refused(tmp_path):
    rows = [
        ["hazard_id", "mines_ap", "mines_at", "wkt"],
        [101, 3, 0, shapely.box(46.9, 39.98, 46.91, 39.99).wkt],
        ["AG-7", "x", 1.5, shapely.box(46.92, 39.98, 46.93, 39.99).wkt],
    ]
    path = sheets.xlsx(tmp_path / "h.xlsx", {"Sahələr": sheets.rows_xml(rows)})
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    assert loaded.kept[s.HAZARD_ID].tolist() == ["101"]
    assert sorted(p.rule for p in loaded.errors) == ["bad-count", "bad-count"]
    assert any("'x'" in p.message for p in loaded.errors)


def test_sheets_by_name_and_the_first_visible_by_default(tmp_path):
    items = sheets.rows_xml([HEADER, [1, 45342, "AP", 46.9, 39.98, "x"]])
    notes = sheets.rows_xml([["Izah"], ["Hesabat 2024"]])
    path = sheets.xlsx(
        tmp_path / "w.xlsx",
        {"Köhnə": notes, "Tapılanlar": items, "Qeydlər": notes},
        hidden=("Köhnə",),
    )
    assert mio.layer_names(path) == ["Köhnə", "Tapılanlar", "Qeydlər"]
    assert len(mm.read_items(path)) == 1  # the hidden first sheet is skipped
    assert len(mm.read_items(path, layer="tapılanlar")) == 1  # case does not matter
    with pytest.raises(InputFileError) as error:
        mm.read_items(path, layer="Items")
    message = str(error.value)
    assert "has no sheet 'Items'; its sheets are: 'Köhnə', 'Tapılanlar', 'Qeydlər'" in message
    assert str(path) in message


def test_layer_option_chooses_the_sheet_on_the_command_line(tmp_path):
    items = sheets.rows_xml([HEADER, [1, 45342, "AP", 46.9, 39.98, "x"]])
    path = sheets.xlsx(tmp_path / "w.xlsx", {"Qeydlər": "", "Tapılanlar": items})
    runner = CliRunner()
    result = runner.invoke(main, ["validate", "--kind", "items", str(path)])
    assert result.exit_code == 1
    assert "sheet 'Qeydlər' is empty" in result.stderr
    result = runner.invoke(
        main, ["validate", "--kind", "items", str(path), "--layer", "Tapılanlar"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["validate", "--kind", "items", str(path), "--layer", "Nope"])
    assert result.exit_code == 1
    assert "its sheets are: 'Qeydlər', 'Tapılanlar'" in result.stderr
    assert "Traceback" not in result.output


def test_excel_day_numbers_in_a_date_column_are_dates(tmp_path):
    rows = [
        HEADER,
        [1, 45342, "AP", 46.90, 39.98, "format lost"],  # a number: day 45342
        [2, 45342.75, "AP", 46.91, 39.98, "with a time"],
        [3, 2022, "AP", 46.92, 39.98, "a year typed alone"],
        [4, "2024-02-21", "AP", 46.93, 39.98, "text"],
    ]
    path = sheets.xlsx(tmp_path / "d.xlsx", {"items": sheets.rows_xml(rows)})
    loaded = mio.load_layers([path], "items")
    day = pd.Timestamp("1899-12-30") + pd.Timedelta(days=45342)
    assert day == pd.Timestamp("2024-02-20")
    assert loaded.kept[s.FOUND_ON].tolist() == [day, day, pd.Timestamp("2024-02-21")]
    assert [(p.feature, p.rule) for p in loaded.errors] == [("item_id 3", "bad-date")]
    # A workbook in the 1904 date system (old Excel for Mac) counts 1462 days fewer.
    mac = [HEADER, [1, 45342 - 1462, "AP", 46.90, 39.98, "1904 system"]]
    path_1904 = sheets.xlsx(tmp_path / "mac.xlsx", {"items": sheets.rows_xml(mac)}, date1904=True)
    kept = mio.load_layers([path_1904], "items").kept
    assert kept[s.FOUND_ON].tolist() == [day]


def test_an_id_column_with_a_gap_keeps_whole_numbers(tmp_path):
    rows = [
        HEADER,
        [101, 45342, "AP", 46.9, 39.98, ""],
        [None, 45342, "AP", 46.91, 39.98, ""],
        [102, 45342, "AT", 46.92, 39.98, ""],
    ]
    path = sheets.xlsx(tmp_path / "gap.xlsx", {"items": sheets.rows_xml(rows)})
    loaded = mio.load_layers([path], "items")
    assert loaded.kept[s.ITEM_ID].tolist() == ["101", "102"]
    assert [p.rule for p in loaded.errors] == ["missing-id"]


def test_wkt_and_mgrs_columns(tmp_path):
    square = shapely.box(46.9, 39.98, 46.91, 39.99)
    hazards = [
        ["hazard_id", "mines_ap", "mines_at", "WKT"],
        ["H-1", 2, 0, square.wkt],
        ["H-2", 1, 0, None],
    ]
    path = sheets.xlsx(tmp_path / "h.xlsx", {"h": sheets.rows_xml(hazards)})
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    assert loaded.kept.geometry.iloc[0].equals(square)
    assert [(p.feature, p.rule) for p in loaded.errors] == [("hazard_id H-2", "missing-geometry")]
    items = [
        ["item_id", "found_on", "item_type", "MGRS"],
        ["M-1", 45342, "AP", "38TNK 12345 67890"],
        ["M-2", 45342, "AP", "38TNK1234567891"],
        ["M-3", 45342, "AP", "38TNI 123 456"],  # no row letter I: unreadable
    ]
    path = sheets.xlsx(tmp_path / "m.xlsx", {"m": sheets.rows_xml(items)})
    loaded = mio.load_layers([path], "items")
    lat, lon = mgrs.mgrs_to_latlon("38TNK1234567890")
    point = loaded.kept.geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((lon, lat), abs=1e-9)
    assert loaded.kept[s.ITEM_ID].tolist() == ["M-1", "M-2"]
    assert [p.rule for p in loaded.errors] == ["unreadable-geometry"]


def test_mgrs_in_a_csv_too(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("item_id,found_on,item_type,mgrs\nM-1,2024-02-20,AP,38TNK1234567890\n")
    lat, lon = mgrs.mgrs_to_latlon("38TNK1234567890")
    point = mm.read_items(path).geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((lon, lat), abs=1e-9)


def test_formulas_give_their_saved_values_and_links_are_not_followed(tmp_path):
    data = (
        '<row r="1">'
        + "".join(sheets.cell(f"{sheets.column(j)}1", v) for j, v in enumerate(HEADER, start=1))
        + "</row>"
        '<row r="2"><c r="A2"><f>100+1</f><v>101</v></c><c r="B2" s="1"><v>45342</v></c>'
        '<c r="C2" t="inlineStr"><is><t>AP</t></is></c><c r="D2"><v>46.9</v></c>'
        '<c r="E2"><f>[1]Sheet1!$E$2</f><v>39.98</v></c></row>'
        '<row r="3"><c r="A3"><f>A2+1</f></c><c r="B3" s="1"><v>45342</v></c>'
        '<c r="C3" t="inlineStr"><is><t>AP</t></is></c><c r="D3"><v>46.91</v></c>'
        '<c r="E3"><v>39.98</v></c></row>'
    )
    link = (
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships"/></externalLink>'
    )
    link_rels = (
        f'<Relationships xmlns="{sheets.PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{sheets.RELS}/externalLinkPath" Target="http://192.0.2.1/secret.xlsx" '
        'TargetMode="External"/></Relationships>'
    )
    path = sheets.xlsx(
        tmp_path / "f.xlsx",
        {"items": data},
        extra={
            "xl/externalLinks/externalLink1.xml": link,
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
            "xl/vbaProject.bin": b"\0" * 64,
        },
    )
    loaded = mio.load_layers([path], "items")
    assert loaded.kept[s.ITEM_ID].tolist() == ["101"]  # the saved value of =100+1
    assert loaded.kept.geometry.iloc[0].y == 39.98  # the saved value of the linked cell
    assert [p.rule for p in loaded.errors] == ["missing-id"]  # =A2+1, never saved: empty
    given = spreadsheet._Book(path).parts  # what calamine is handed
    assert not any("externalLink" in name or name.endswith(".bin") for name in given)


# --- hostile workbooks ------------------------------------------------------------


def _refused(path, *expected):
    result = CliRunner().invoke(main, ["validate", "--kind", "items", str(path)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]
    assert str(path) in lines[0]
    return lines[0]


def test_a_cell_far_away_is_refused_before_calamine_lays_it_out(tmp_path):
    """A 2 KB workbook naming cell XFD1048576 would make calamine ask for 500 GB."""
    data = sheets.rows_xml([HEADER]) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    path = sheets.xlsx(tmp_path / "far.xlsx", {"Tapılanlar": data})
    assert path.stat().st_size < 4096
    _refused(path, "sheet 'Tapılanlar' spans 1,048,576 rows × 16,384 columns")


@pytest.mark.parametrize(
    "data",
    [
        # cells without references, in a row far down: laid out one after the other
        '<row r="1"><c><v>1</v></c></row><row r="900000">' + "<c><v>1</v></c>" * 20 + "</row>",
        # a namespace prefix (calamine reads the local name)
        '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="ZZ900000"><x:v>1</x:v></x:c></x:row>',
        # the reference after another attribute, in single quotes
        "<row r='1'><c s='0' r='A1'><v>1</v></c><c s='0' r='ZZ900000'><v>1</v></c></row>",
    ],
)
def test_far_cells_are_found_however_the_xml_is_written(tmp_path, data):
    path = sheets.xlsx(tmp_path / "odd.xlsx", {"s": data})
    if "x:" in data:
        raw = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
        raw = (
            raw.replace('<worksheet xmlns="', '<x:worksheet xmlns:x="')
            .replace("<sheetData>", "<x:sheetData>")
            .replace("</sheetData></worksheet>", "</x:sheetData></x:worksheet>")
        )
        parts = {n: zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist()}
        parts["xl/worksheets/sheet1.xml"] = raw.encode()
        with zipfile.ZipFile(path, "w") as archive:
            for name, blob in parts.items():
                archive.writestr(name, blob)
    _refused(path, "spans", "rows ×", "columns")


def test_the_extent_measured_is_the_one_calamine_lays_out(tmp_path):
    rows = [HEADER, *[[i, 45342, "AP", 46.9, 39.98, "x"] for i in range(1, 6)]]
    path = sheets.xlsx(tmp_path / "ok.xlsx", {"s": sheets.rows_xml(rows)})
    data = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert spreadsheet._xlsx_extent(data) == (6, 6, 36)
    assert spreadsheet._xlsx_extent_parsed(data) == (6, 6, 36)


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path):
    bomb = sheets.sheet_xml(" " * (50 << 20))  # 50 MiB of spaces pack to about 50 KiB
    path = sheets.xlsx(tmp_path / "bomb.xlsx", {"s": ""}, extra={"xl/worksheets/sheet1.xml": bomb})
    assert path.stat().st_size < 200_000
    _refused(path, "unpacks to 50 MiB", "zip bomb")


def test_a_workbook_too_large_unpacked_is_refused(tmp_path, monkeypatch):
    path = _excel_items(tmp_path / "items.xlsx")
    monkeypatch.setattr(spreadsheet, "MAX_UNPACKED_BYTES", 4096)
    with pytest.raises(InputFileError, match=r"unpacks to .* MiB .*too large"):
        mm.read_items(path)


def test_too_many_members_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_MEMBERS", 5)
    with pytest.raises(InputFileError, match="members"):
        mm.read_items(_excel_items(tmp_path / "items.xlsx"))


def _lie_about_size(path: Path, member: str, size: int) -> None:
    """Declare a member smaller than it unpacks to (local header and directory)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        while at != -1:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", data, at + offset, size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_a_member_that_unpacks_to_more_than_it_declares_is_damaged(tmp_path):
    rows = [HEADER, *[[i, 45342, "AP", 46.9, 39.98, "x" * 50] for i in range(200)]]
    path = sheets.xlsx(tmp_path / "lie.xlsx", {"s": sheets.rows_xml(rows)})
    _lie_about_size(path, "xl/worksheets/sheet1.xml", 100)
    _refused(path, "is damaged")


def test_entities_in_the_xml_are_refused(tmp_path):
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<worksheet xmlns="{sheets.MAIN}"><sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>&b;</t></is></c><c><v>1</v></c></row>'
        "</sheetData></worksheet>"
    )
    path = sheets.xlsx(tmp_path / "lol.xlsx", {"s": ""}, extra={"xl/worksheets/sheet1.xml": laughs})
    _refused(path, "document type declaration")


def test_an_ods_of_repeated_cells_is_refused(tmp_path):
    """A 1 KB .ods repeating one cell 16,384 times in a row repeated a million times."""
    rows = (
        sheets.ods_rows([HEADER]) + '<table:table-row table:number-rows-repeated="1048575">'
        '<table:table-cell office:value-type="float" office:value="1" '
        'table:number-columns-repeated="16384"/></table:table-row>'
    )
    path = sheets.ods(tmp_path / "rep.ods", {"Tapılanlar": rows})
    assert path.stat().st_size < 2048
    _refused(path, "sheet 'Tapılanlar'", "more than 10,000,000 cells")


def test_libreoffice_trailing_empty_rows_and_cells_are_not_data(tmp_path):
    rows = (
        sheets.ods_rows([HEADER, [1, 45342, "AP", 46.9, 39.98, "x"]]).replace(
            "</table:table-row>",
            '<table:table-cell table:number-columns-repeated="16378"/></table:table-row>',
        )
        + '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    path = sheets.ods(tmp_path / "lo.ods", {"Tapılanlar": rows})
    assert len(mm.read_items(path)) == 1


def test_every_sheet_of_an_ods_is_measured(tmp_path):
    """calamine lays out every sheet of an .ods as it opens it, not only the one read."""
    bomb = (
        '<table:table-row table:number-rows-repeated="100000">'
        '<table:table-cell office:value-type="float" office:value="1" '
        'table:number-columns-repeated="1000"/></table:table-row>'
    )
    good = sheets.ods_rows([HEADER, [1, 45342, "AP", 46.9, 39.98, "x"]])
    path = sheets.ods(tmp_path / "two.ods", {"Tapılanlar": good, "Gizli": bomb})
    _refused(path, "sheet 'Gizli'")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("garbage.xlsx", b"PK\x03\x04" + bytes(range(200)), "is not a readable .xlsx file"),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "password-protected"),
        ("old.ods", b"just text, not an archive\n" * 10, "is not a readable .ods file"),
    ],
)
def test_files_that_are_not_workbooks(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    _refused(path, expected)


def test_a_workbook_under_the_other_extension_is_refused(tmp_path):
    ods = sheets.ods(tmp_path / "items.ods", {"s": sheets.ods_rows([HEADER])})
    renamed = ods.rename(tmp_path / "items.xlsx")
    _refused(renamed, "content does not match its extension", "OpenDocument")
    docx = tmp_path / "report.xlsx"
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    _refused(docx, "not a spreadsheet")


# --- writing -------------------------------------------------------------------------


def test_a_table_is_written_as_a_real_workbook(tmp_path):
    table = pd.DataFrame(
        {
            s.DISTRICT: ["Ağdam", '=HYPERLINK("http://x")', "-Füzuli"],
            s.REMAINING_AREA_HA: [1234.5678, 0.004, np.nan],
            s.REMAINING_MINES_EST: [10.26, 0.0, 3.0],
            s.HAZARDS: pd.array([3, 0, None], dtype="Int64"),
            s.SHARE_RELEASED: [0.12345, 1.0, 0.0],
            "as_of": pd.to_datetime(["2024-02-20", "2024-02-21", None]),
        }
    )
    path = mio.write_table(table, tmp_path / "by_district.xlsx")
    assert zipfile.is_zipfile(path)
    book = openpyxl.load_workbook(path)
    ws = book.active
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == list(table.columns)
    assert all(c.font.bold for c in ws[1])
    area = ws["B2"]
    assert (area.value, area.number_format) == (1234.57, "#,##0.00")  # rounded to 0.01 ha
    assert ws["B3"].value == 0.0
    assert ws["B4"].value is None
    assert (ws["C2"].value, ws["C2"].number_format) == (10.3, "#,##0.0")
    assert (ws["D2"].value, ws["D2"].number_format) == (3, "#,##0")
    assert ws["E2"].value == 0.123
    assert ws["F2"].value == dt.datetime(2024, 2, 20)
    assert ws["F2"].number_format == "yyyy-mm-dd"
    formula = ws["A3"]
    assert formula.value == '=HYPERLINK("http://x")'  # the text, kept
    assert formula.data_type == "s"  # text, never a formula
    assert formula.quotePrefix  # and stays text when edited in Excel
    assert ws["A4"].quotePrefix
    assert not ws["A2"].quotePrefix
    back = spreadsheet.read_cells(path)
    assert back[s.DISTRICT].tolist() == table[s.DISTRICT].tolist()


def test_a_layer_round_trips_through_xlsx(tmp_path):
    hazards = mm.read_hazards(HAZARDS)
    path = mm.write_layer(hazards, tmp_path / "hazards.xlsx")
    back = mm.read_hazards(path, crs="EPSG:4326")
    assert back[s.HAZARD_ID].tolist() == hazards[s.HAZARD_ID].tolist()
    assert back[s.MINES_AP].tolist() == hazards[s.MINES_AP].tolist()
    assert all(a.equals_exact(b, 0) for a, b in zip(back.geometry, hazards.geometry, strict=True))


def test_text_too_long_for_a_cell_is_refused_and_nothing_is_written(tmp_path):
    table = pd.DataFrame({"wkt": ["x" * 40_000]})
    with pytest.raises(OutputFileError, match="more than an Excel cell holds"):
        mio.write_table(table, tmp_path / "long.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_remaining_by_district_xlsx_is_a_workbook(tmp_path):
    out = tmp_path / "by_district.xlsx"
    result = CliRunner().invoke(
        main,
        [
            "remaining",
            "--hazards",
            HAZARDS,
            "--releases",
            RELEASES,
            "--districts",
            DISTRICTS,
            "--by-district",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_excel(out, engine="calamine")
    assert tuple(table.columns[:6]) == s.TABLE_COLUMNS
    assert table[s.DISTRICT].tolist() == ["Aghdam", "Fuzuli", s.UNASSIGNED]
    assert pd.api.types.is_float_dtype(table[s.REMAINING_AREA_HA])


def test_progress_tables_as_xlsx(tmp_path):
    out = tmp_path / "progress"
    result = CliRunner().invoke(
        main,
        [
            "progress",
            "--releases",
            RELEASES,
            "--hazards",
            HAZARDS,
            "-o",
            str(out),
            "--table-format",
            "xlsx",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "progress.xlsx").is_file()
    assert (out / "forecast.xlsx").is_file()
    assert not (out / "progress.csv").exists()
    forecast = pd.read_excel(out / "forecast.xlsx", engine="calamine")
    assert s.DISTRICT in forecast.columns


def test_priorities_and_accuracy_as_xlsx(tmp_path):
    runner = CliRunner()
    ranked = tmp_path / "ranked.xlsx"
    result = runner.invoke(
        main, ["priorities", "--hazards", HAZARDS, "--releases", RELEASES, "-o", str(ranked)]
    )
    assert result.exit_code == 0, result.output
    assert "rank" in pd.read_excel(ranked, engine="calamine").columns
    items = tmp_path / "items.geojson"
    hz = gpd.read_file(HAZARDS)
    gpd.GeoDataFrame(
        {s.ITEM_ID: ["I-1"], s.FOUND_ON: ["2022-05-01"], s.ITEM_TYPE: ["AP"]},
        geometry=[hz.geometry.iloc[0].representative_point()],
        crs="EPSG:4326",
    ).to_file(items)
    out = tmp_path / "acc.xlsx"
    result = runner.invoke(
        main, ["accuracy", "--hazards", HAZARDS, "--items", str(items), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    for name in ("acc.xlsx", "acc_by_district.xlsx", "acc_by_source.xlsx"):
        assert zipfile.is_zipfile(tmp_path / name), name


def test_log_writes_the_imports_and_the_rejects_as_tables(tmp_path):
    runner = CliRunner()
    workspace = tmp_path / "ws.gpkg"
    assert runner.invoke(main, ["init", str(workspace)]).exit_code == 0
    bad = gpd.read_file(HAZARDS)
    bad.loc[0, s.MINES_AP] = -5
    path = tmp_path / "hz.geojson"
    bad.to_file(path)
    runner.invoke(main, ["add", "hazards", str(workspace), str(path), "--source", "ANAMA"])
    result = runner.invoke(main, ["log", str(workspace), "-o", str(tmp_path / "log.xlsx")])
    assert result.exit_code == 0, result.output
    log = pd.read_excel(tmp_path / "log.xlsx", engine="calamine")
    assert log[s.KIND].tolist() == ["hazards"]
    result = runner.invoke(
        main, ["log", str(workspace), "--rejects", "-o", str(tmp_path / "rejects.csv")]
    )
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert rejects[s.FEATURE_ID].tolist() == ["AGM-1"]
    assert "wkt" in rejects.columns
    result = runner.invoke(main, ["log", str(workspace), "--json", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 2


def _commands(group, path=()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _file_outputs():
    """Every option that names a file to write, in every command."""
    found = []
    for path, command in _commands(main):
        for param in command.params:
            if not isinstance(param, click.Option) or param.is_flag:
                continue
            if not isinstance(param.type, click.Path):
                continue
            names = set(param.opts)
            writes = names & {"-o", "--output", "--by-district", "--rejects", "--html"}
            if writes and param.type.file_okay:
                found.append((path, param))
    return found


FILE_OUTPUTS = _file_outputs()


def test_the_output_options_are_found():
    names = {(" ".join(p), q.opts[-1]) for p, q in FILE_OUTPUTS}
    assert {
        ("remaining", "--output"),
        ("remaining", "--by-district"),
        ("remaining", "--rejects"),
        ("map", "--output"),
        ("report", "--output"),
        ("accuracy", "--output"),
        ("accuracy", "--html"),
        ("priorities", "--output"),
        ("density", "--output"),
        ("record", "--output"),
        ("progress", "--rejects"),
        ("log", "--output"),
    } <= names


@pytest.mark.parametrize(
    ("path", "param"), FILE_OUTPUTS, ids=[f"{' '.join(p)} {q.opts[-1]}" for p, q in FILE_OUTPUTS]
)
def test_every_output_option_refuses_an_extension_it_does_not_write(tmp_path, path, param):
    assert isinstance(param.type, OutputFile), (path, param.name)
    target = tmp_path / "out.docx"
    result = CliRunner().invoke(main, [*path, param.opts[-1], str(target)])
    assert result.exit_code == 2, result.output
    assert "'.docx' is not a format minemap writes" in result.stderr
    assert not target.exists()


def test_by_district_xlsx_wrong_extension_is_refused_before_reading(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(tmp_path / "absent.gpkg"),
            "--releases",
            RELEASES,
            "--by-district",
            str(tmp_path / "t.ods"),
        ],
    )
    assert result.exit_code == 2
    assert "writes spreadsheets as .xlsx" in result.stderr
    assert "absent.gpkg" not in result.stderr
