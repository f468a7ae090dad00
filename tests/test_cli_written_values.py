"""Files as programmes keep them: Excel release lists, day-first dates, decimal commas,
counts not known, Shapefiles in Windows code pages; read through the command line."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import minemap as mm
from minemap import io as mio
from minemap import schema as s
from minemap.cli import main
from tests import sheets

#: Two hazards near Aghdam: H-1 (1.6 ha), H-2 (0.9 ha).
H1 = shapely.box(46.900, 39.980, 46.9020, 39.9810)
H2 = shapely.box(46.910, 39.980, 46.9130, 39.9804)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def hazards_file(tmp_path):
    path = tmp_path / "hazards.gpkg"
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["H-1", "H-2"], "mines_ap": [12, 3], "mines_at": [0, 1]},
        geometry=[H1, H2],
        crs="EPSG:4326",
    )
    mm.write_layer(frame, path)
    return path


def _area_ha(geom) -> float:
    from minemap.geodesy import geodesic_area_ha

    return float(geodesic_area_ha([geom])[0])


def excel_list(path, rows) -> None:
    """A release list as Excel saves "CSV" in an Azerbaijani or Russian locale: ';', BOM."""
    head = "release_id;hazard_id;released_on;method;area_ha;items_ap;longitude;latitude"
    text = "\r\n".join([head, *(";".join(r) for r in rows)]) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def test_an_excel_release_list_goes_in(runner, tmp_path, hazards_file):
    releases = tmp_path / "releases.csv"
    excel_list(
        releases,
        [
            ("T-2024-001", "H-1", "22.02.2024", "cleared", "0,75", "2", "46,9005", "39,9802"),
            ("T-2024-002", "H-1", "03.04.2024", "reduced", "0,25", "?", "", ""),
            ("T-2024-003", "H-2", "15.04.2024", "cancelled", "0,1", "0", "", ""),
        ],
    )
    table = tmp_path / "table.csv"
    result = runner.invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(hazards_file),
            "--releases",
            str(releases),
            "--by-district",
            str(table),
        ],
    )
    assert result.exit_code == 0, result.output
    # How the list was read is said, once each, naming the file and the column.
    assert "released_on: dates read day-first (DD.MM.YYYY)" in result.stderr
    assert "area_ha: numbers read with a decimal comma" in result.stderr
    assert "releases: read 3, kept 3, rejected 0" in result.stderr
    row = pd.read_csv(table).set_index(s.DISTRICT).loc[s.UNASSIGNED]
    assert row[s.RELEASED_AREA_HA] == pytest.approx(1.1, abs=0.005)
    assert row[s.RELEASED_AREA_ONLY_HA] == pytest.approx(1.1, abs=0.005)
    mapped = _area_ha(H1) + _area_ha(H2)
    assert row[s.REMAINING_AREA_HA] == pytest.approx(mapped - 1.1, abs=0.005)


def test_a_release_list_with_ambiguous_dates_is_refused_until_the_order_is_said(
    runner, tmp_path, hazards_file
):
    releases = tmp_path / "releases.csv"
    excel_list(
        releases,
        [
            ("T-1", "H-1", "03.04.2024", "cleared", "0,75", "0", "", ""),
            ("T-2", "H-2", "05.02.2024", "cleared", "0,1", "0", "", ""),
        ],
    )
    args = ["remaining", "--hazards", str(hazards_file), "--releases", str(releases)]
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1
    assert "ambiguous-date" in refused.stderr
    assert "--date-order DMY|MDY|YMD" in refused.stderr
    assert "date_order" in refused.stderr
    assert "Traceback" not in refused.output
    read = runner.invoke(main, [*args, "--date-order", "DMY"])
    assert read.exit_code == 0, read.output
    assert "day-first" not in read.stderr  # said, not guessed: no note


def test_each_file_settles_its_own_date_order(runner, tmp_path, hazards_file):
    # One team writes day-first, another month-first: each file is read its own way.
    day_first, month_first = tmp_path / "team_a.csv", tmp_path / "team_b.csv"
    excel_list(day_first, [("A-1", "H-1", "22.02.2024", "cleared", "0,5", "0", "", "")])
    excel_list(
        day_first.with_name("team_a2.csv"),
        [("A-2", "H-1", "03.04.2024", "cleared", "0,1", "0", "", "")],
    )
    excel_list(
        month_first,
        [
            ("B-1", "H-2", "02/23/2024", "cleared", "0,1", "0", "", ""),
            ("B-2", "H-2", "03/04/2024", "cleared", "0,1", "0", "", ""),
        ],
    )
    loaded = mio.load_layers([day_first, month_first], "releases")
    days = loaded.kept.set_index(s.RELEASE_ID)[s.RELEASED_ON].dt.strftime("%Y-%m-%d")
    assert days.to_dict() == {"A-1": "2024-02-22", "B-1": "2024-02-23", "B-2": "2024-03-04"}
    notes = [p for p in loaded.problems if p.rule == "date-order"]
    assert sorted((p.file, "day-first" in p.message) for p in notes) == [
        (str(day_first), True),
        (str(month_first), False),
    ]
    # A file whose dates do not settle it is refused, whatever the other files say.
    alone = mio.load_layers([day_first, day_first.with_name("team_a2.csv")], "releases")
    assert [p.rule for p in alone.errors] == ["ambiguous-date"]


def test_a_two_way_number_is_refused_until_the_decimal_is_said(runner, tmp_path, hazards_file):
    releases = tmp_path / "releases.csv"
    excel_list(releases, [("T-1", "H-1", "2024-02-22", "cleared", "1,157", "0", "", "")])
    args = ["validate", str(releases), "--kind", "releases"]
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1
    assert "ambiguous-number" in refused.stdout
    assert "--decimal" in refused.stdout
    read = runner.invoke(main, [*args, "--decimal", ","])
    assert read.exit_code == 0, read.output


def test_an_area_only_release_of_an_unknown_hazard_is_rejected(runner, tmp_path, hazards_file):
    releases = tmp_path / "releases.csv"
    excel_list(
        releases,
        [
            ("T-1", "H-9", "22.02.2024", "cleared", "0,5", "0", "", ""),
            ("T-2", "", "22.02.2024", "cleared", "0,5", "0", "", ""),
            ("T-3", "H-1", "22.02.2024", "cleared", "0", "0", "", ""),
            ("T-4", "H-1", "22.02.2024", "cleared", "?", "0", "", ""),
        ],
    )
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(hazards_file),
            "--releases",
            str(releases),
            "--rejects",
            str(rejects),
        ],
    )
    assert result.exit_code == 0, result.output
    problems = pd.read_csv(rejects).set_index(s.RELEASE_ID)[mio.PROBLEM]
    assert problems["T-1"].startswith("unknown-hazard: hazard_id 'H-9' names no hazard")
    assert problems["T-2"].startswith("unknown-hazard")
    assert problems["T-3"].startswith("bad-area")
    assert problems["T-4"].startswith("missing-geometry")  # no polygon, no area
    assert "hazard_id and area_ha" in problems["T-4"]


def test_hazard_counts_not_known_go_in(runner, tmp_path):
    path = tmp_path / "hazards.csv"
    wkt = [g.wkt for g in (H1, H2)]
    path.write_text(
        f'hazard_id;mines_ap;mines_at;wkt\nH-1;?;naməlum;"{wkt[0]}"\nH-2;3;1;"{wkt[1]}"\n',
        encoding="utf-8",
    )
    result = runner.invoke(main, ["validate", str(path), "--crs", "EPSG:4326", "--json"])
    assert result.exit_code == 0, result.output
    rules = [p["rule"] for p in json.loads(result.stdout)]
    assert rules.count("unknown-count") == 2


# --- Shapefiles in code pages ---------------------------------------------------------

AZ_NAMES = ["Ağdam rayonu, Şıxbabalı", "Füzuli, Horadiz düzü"]
RU_NAMES = ["Агдамский район", "Физулинский район"]


def shapefile(folder, names, encoding: str, cpg: str | None, stem: str = "hazards"):
    """A hazards Shapefile whose .dbf text is in ``encoding``, with ``cpg`` as its .cpg."""
    folder.mkdir(exist_ok=True)
    frame = gpd.GeoDataFrame(
        {"hazard_id": ["H-1", "H-2"], "mines_ap": [1, 2], "mines_at": [0, 0], "yer": names},
        geometry=[H1, H2],
        crs="EPSG:4326",
    )
    path = folder / f"{stem}.shp"
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    cpg_path = path.with_suffix(".cpg")
    if cpg is None:
        cpg_path.unlink(missing_ok=True)
    else:
        cpg_path.write_text(cpg, encoding="ascii")
    return path


@pytest.mark.parametrize(
    ("cpg", "encoding", "names"),
    [
        ("ANSI 1254", "cp1254", AZ_NAMES),  # Azerbaijani Latin as ArcGIS writes it
        ("1254", "cp1254", AZ_NAMES),
        ("CP1254", "cp1254", AZ_NAMES),
        ("ANSI 1251", "cp1251", RU_NAMES),
        ("1251", "cp1251", RU_NAMES),
        ("88595", "ISO-8859-5", RU_NAMES),
        ("8859-5", "ISO-8859-5", RU_NAMES),
        ("88591", "ISO-8859-1", ["Agdam", "Füzuli"]),
        ("ANSI 1250", "cp1250", ["Łódź", "Plzeň"]),
        ("UTF-8", "UTF-8", AZ_NAMES),
        ("windows-1254", "cp1254", AZ_NAMES),
    ],
)
def test_every_cpg_name_gdal_decodes(tmp_path, cpg, encoding, names):
    path = shapefile(tmp_path / "in", names, encoding, cpg)
    frame = mio.read_file(path)
    assert frame["yer"].tolist() == names


def test_an_azerbaijani_shapefile_in_ansi_1254_validates(runner, tmp_path):
    path = shapefile(tmp_path / "in", AZ_NAMES, "cp1254", "ANSI 1254")
    result = runner.invoke(main, ["validate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    loaded = mio.load_layers([path], "hazards")
    assert loaded.kept["yer"].tolist() == AZ_NAMES


def test_encoding_for_a_shapefile_that_says_none_or_a_wrong_one(runner, tmp_path):
    silent = shapefile(tmp_path / "a", RU_NAMES, "cp1251", None)
    refused = runner.invoke(main, ["validate", str(silent)])
    assert refused.exit_code == 1
    assert "--encoding" in refused.stderr
    read = runner.invoke(main, ["validate", str(silent), "--encoding", "cp1251"])
    assert read.exit_code == 0, read.output
    assert mio.read_file(silent, encoding="cp1251")["yer"].tolist() == RU_NAMES
    # A .cpg that says UTF-8 over cp1254 bytes: the encoding given.
    lying = shapefile(tmp_path / "b", AZ_NAMES, "cp1254", "UTF-8")
    assert mio.read_file(lying, encoding="ANSI 1254")["yer"].tolist() == AZ_NAMES
    # A .cpg that names a code page its text decodes in wins over the one given.
    right = shapefile(tmp_path / "c", RU_NAMES, "cp1251", "1251")
    assert mio.read_file(right, encoding="cp1254")["yer"].tolist() == RU_NAMES


def test_an_unknown_encoding_is_a_usage_error(runner, tmp_path, hazards_file):
    result = runner.invoke(main, ["validate", str(hazards_file), "--encoding", "klingon-7"])
    assert result.exit_code == 2
    assert "klingon-7" in result.output
    assert "cp1254" in result.output


def test_a_cp1251_csv_with_encoding(runner, tmp_path):
    path = tmp_path / "hazards.csv"
    wkt = [g.wkt for g in (H1, H2)]
    text = (
        "hazard_id;mines_ap;mines_at;район;wkt\n"
        f'H-1;1;0;{RU_NAMES[0]};"{wkt[0]}"\nH-2;2;0;{RU_NAMES[1]};"{wkt[1]}"\n'
    )
    path.write_bytes(text.encode("cp1251"))
    refused = runner.invoke(main, ["validate", str(path), "--crs", "EPSG:4326"])
    assert refused.exit_code == 1
    assert "--encoding" in refused.stderr
    read = runner.invoke(
        main, ["validate", str(path), "--crs", "EPSG:4326", "--encoding", "cp1251"]
    )
    assert read.exit_code == 0, read.output


def test_a_release_list_goes_into_a_workspace_and_counts_from_there(
    runner, tmp_path, hazards_file, new_workspace
):
    """On both kinds of workspace: a GeoPackage, and a PostgreSQL database."""
    from minemap import workspace as store

    releases = tmp_path / "releases.csv"
    excel_list(
        releases,
        [
            ("T-1", "H-1", "22.02.2024", "cleared", "0,75", "2", "46,9005", "39,9802"),
            ("T-2", "H-1", "23.02.2024", "reduced", "0,25", "?", "", ""),
        ],
    )
    workspace = new_workspace
    assert runner.invoke(main, ["init", str(workspace)]).exit_code == 0
    for kind, path in (("hazards", hazards_file), ("releases", releases)):
        done = runner.invoke(main, ["add", kind, str(workspace), str(path)])
        assert done.exit_code == 0, done.output
    stored = store.read_workspace(workspace, "releases").set_index(s.RELEASE_ID)
    assert stored[s.AREA_HA].tolist() == [0.75, 0.25]
    assert stored.geometry.isna().all()  # no polygon; T-1's point kept beside it
    assert stored.loc["T-1", store.POINT_LONGITUDE] == pytest.approx(46.9005)
    table = tmp_path / "table.csv"
    result = runner.invoke(
        main, ["remaining", "--workspace", str(workspace), "--by-district", str(table)]
    )
    assert result.exit_code == 0, result.output
    row = pd.read_csv(table).set_index(s.DISTRICT).loc[s.UNASSIGNED]
    assert row[s.RELEASED_AREA_ONLY_HA] == pytest.approx(1.0, abs=0.005)


def test_a_workspace_made_before_area_only_releases_takes_them(tmp_path):
    import shutil
    from pathlib import Path

    from minemap import workspace as store

    workspace = tmp_path / "v1.gpkg"
    shutil.copy(Path(__file__).parent / "data" / "workspace_v1.gpkg", workspace)
    hazard = store.read_workspace(workspace, "hazards")[s.HAZARD_ID].iloc[0]
    releases = tmp_path / "releases.csv"
    excel_list(releases, [("T-9", hazard, "22.02.2024", "cleared", "0,05", "0", "", "")])
    done = store.add_file(workspace, "releases", releases)
    assert done.kept == 1
    stored = store.read_workspace(workspace, "releases").set_index(s.RELEASE_ID)
    assert stored.loc["T-9", s.AREA_HA] == pytest.approx(0.05)


def test_an_xlsx_release_list_with_text_dates_decimal_commas_and_date_cells(
    runner, tmp_path, hazards_file
):
    # As an information officer keeps it in Excel: some dates typed as text in the national
    # format (22.02.2024, 03.04.2024), some entered as dates (a date cell: a day number
    # with a date format), one whose format was lost (the bare day number); hectares as
    # text with a decimal comma or as numbers; '?' for items not counted.
    def text(ref, value):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'

    def number(ref, value, style=0):
        return f'<c r="{ref}"' + (f' s="{style}"' if style else "") + f"><v>{value}</v></c>"

    head = ["release_id", "hazard_id", "released_on", "method", "area_ha", "items_ap"]
    rows = [
        "".join(text(f"{sheets.column(j)}1", name) for j, name in enumerate(head, start=1)),
        text("A2", "T-2024-001")
        + text("B2", "H-1")
        + text("C2", "22.02.2024")
        + text("D2", "təmizlənib")  # Azerbaijani: cleared
        + text("E2", "0,75")
        + number("F2", 2),
        text("A3", "T-2024-002")
        + text("B3", "H-1")
        + text("C3", "03.04.2024")  # read day-first, as the column's 22.02.2024 settles
        + text("D3", "reduced")
        + text("E3", "0,25")
        + text("F3", "?"),
        text("A4", "T-2024-003")
        + text("B4", "H-2")
        + number("C4", 45397, style=1)  # a date cell: 15 April 2024
        + text("D4", "cancelled")
        + number("E4", 0.1)
        + number("F4", 0),
        text("A5", "T-2024-004")
        + text("B5", "H-2")
        + number("C5", 45413)  # a day number whose date format was lost: 1 May 2024
        + text("D5", "cleared")
        + text("E5", "0,05")
        + number("F5", 1),
    ]
    data = "".join(f'<row r="{i}">{cells}</row>' for i, cells in enumerate(rows, start=1))
    releases = sheets.xlsx(tmp_path / "relizlər.xlsx", {"Azad edilmiş": data})

    checked = runner.invoke(main, ["validate", str(hazards_file), str(releases)])
    assert checked.exit_code == 0, checked.output
    assert "guessed releases" in checked.stderr
    assert "releases: read 4, kept 4, rejected 0" in checked.output + checked.stderr

    loaded = mio.load_layers(
        [releases], "releases", hazards=mio.read_layer(hazards_file, "hazards")
    )
    assert not loaded.errors, [p.message for p in loaded.errors]
    kept = loaded.kept.set_index(s.RELEASE_ID)
    assert kept[s.RELEASED_ON].dt.strftime("%Y-%m-%d").to_dict() == {
        "T-2024-001": "2024-02-22",
        "T-2024-002": "2024-04-03",
        "T-2024-003": "2024-04-15",
        "T-2024-004": "2024-05-01",
    }
    assert kept[s.AREA_HA].tolist() == pytest.approx([0.75, 0.25, 0.1, 0.05])
    assert kept[s.METHOD].tolist() == ["cleared", "reduced", "cancelled", "cleared"]
    assert kept[s.ITEMS_AP].isna().tolist() == [False, True, False, False]
    rules = {p.rule for p in loaded.problems}
    assert {"date-order", "decimal-comma"} <= rules

    table = tmp_path / "table.xlsx"
    result = runner.invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(hazards_file),
            "--releases",
            str(releases),
            "--by-district",
            str(table),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "released_on: dates read day-first (DD.MM.YYYY)" in result.stderr
    assert "area_ha: numbers read with a decimal comma" in result.stderr
    assert "releases: read 4, kept 4, rejected 0" in result.stderr
    row = pd.read_excel(table, engine="openpyxl").set_index(s.DISTRICT).loc[s.UNASSIGNED]
    assert row[s.RELEASED_AREA_ONLY_HA] == pytest.approx(1.15, abs=0.005)
    mapped = _area_ha(H1) + _area_ha(H2)
    assert row[s.REMAINING_AREA_HA] == pytest.approx(mapped - 1.15, abs=0.005)
