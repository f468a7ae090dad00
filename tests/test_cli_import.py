"""Reading what programmes really send (issue 13): kind guessing, --map, profiles, languages.

Files are made like the real ones: a Google Earth KML, QGIS Shapefiles in UTM with
Azerbaijani or Russian columns and values in their Windows code pages.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from minemap import schema as s
from minemap.cli import main

DATA = Path(__file__).parent / "data"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
DISTRICTS = str(DATA / "small_districts.geojson")


@pytest.fixture
def runner():
    return CliRunner()


def google_earth_kml(path: Path, n: int = 21) -> Path:
    """A KML as Google Earth saves it: placemarks with a name, a description, a style."""
    placemarks = []
    for i in range(n):
        x, y = 46.90 + 0.002 * (i % 7), 39.98 + 0.002 * (i // 7)
        ring = " ".join(
            f"{px:.6f},{py:.6f},0"
            for px, py in ((x, y), (x + 0.001, y), (x + 0.001, y + 0.001), (x, y + 0.001), (x, y))
        )
        placemarks.append(
            f"""<Placemark><name>Task {i + 1}</name>
<description>Cleared 19.02.2024</description><styleUrl>#cleared</styleUrl>
<Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing>
<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"""
        )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
        "<Document><name>cleared.kml</name>"
        '<Style id="cleared"><PolyStyle><color>7f00ff00</color></PolyStyle></Style>'
        "<Folder><name>Cleared February</name>"
        + "\n".join(placemarks)
        + "</Folder></Document></kml>",
        encoding="utf-8",
    )
    return path


# --- kind guessing (issue 13 item 7) ------------------------------------------------


def test_a_google_earth_kml_is_never_guessed_as_districts(runner, tmp_path):
    path = google_earth_kml(tmp_path / "cleared.kml")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "cleared.kml: districts" not in result.stderr
    assert f"cannot tell what kind of layer {path} is" in result.stderr
    assert "give --kind" in result.stderr
    assert "Traceback" not in result.output


def test_the_guess_is_said_with_its_reason(runner):
    result = runner.invoke(main, ["validate", HAZARDS, DISTRICTS])
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if "guessed" in line]
    hazards = next(line for line in said if "small_hazards.geojson" in line)
    assert "hazards" in hazards
    assert "hazard_id" in hazards
    assert "mines_ap" in hazards
    assert "--kind" in hazards
    districts = next(line for line in said if "small_districts.geojson" in line)
    assert "districts" in districts


def test_a_file_with_only_an_id_is_not_guessed(runner, tmp_path):
    path = tmp_path / "ids.geojson"
    gpd.GeoDataFrame(
        {"ID": ["A1", "A2"]},
        geometry=gpd.GeoSeries.from_wkt(
            ["POLYGON ((46.9 39.98, 46.91 39.98, 46.91 39.99, 46.9 39.98))"] * 2
        ),
        crs="EPSG:4326",
    ).to_file(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "cannot tell what kind of layer" in result.stderr


def test_names_nobody_knows_are_not_guessed_as_districts(runner, tmp_path):
    path = tmp_path / "areas.geojson"
    gpd.GeoDataFrame(
        {"Name": ["North field", "Orchard"]},
        geometry=gpd.GeoSeries.from_wkt(
            ["POLYGON ((46.9 39.98, 46.91 39.98, 46.91 39.99, 46.9 39.98))"] * 2
        ),
        crs="EPSG:4326",
    ).to_file(path)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "cannot tell what kind of layer" in result.stderr


# --- --map (issue 13 item 7) --------------------------------------------------------


def test_a_map_error_names_the_file(runner, tmp_path):
    hz = gpd.read_file(HAZARDS)
    path = tmp_path / "hz.geojson"
    hz.to_file(path)
    result = runner.invoke(
        main,
        ["remaining", "--hazards", str(path), "--releases", RELEASES, "--map", "mines_ap=AP_X"],
    )
    assert result.exit_code == 1, result.output
    error = next(line for line in result.stderr.splitlines() if "AP_X" in line)
    assert str(path) in error
    assert "Traceback" not in result.output


def test_mapping_an_optional_column_a_file_lacks_is_no_error(runner, tmp_path):
    hz = gpd.read_file(HAZARDS).rename(columns={s.SOURCE: "Menbe"})
    with_it, without = tmp_path / "with.geojson", tmp_path / "without.geojson"
    hz.to_file(with_it)
    hz.drop(columns="Menbe").to_file(without)
    for path in (with_it, without):
        result = runner.invoke(
            main,
            ["remaining", "--hazards", str(path), "--releases", RELEASES, "--map", "source=Menbe"],
        )
        assert result.exit_code == 0, result.output


# --- a week of real files through a profile (issue 13 items 1 and 2) ------------------


def _write(frame, path: Path, encoding: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL says it cut a column name to 10 characters
        pyogrio.write_dataframe(frame, path, encoding=encoding)


def _squares(xs, y, size=200.0):
    return [shapely.box(x, y, x + size, y + size) for x in xs]


def azerbaijani_hazards(folder: Path, *, ap_first: int = 120) -> Path:
    """Hazards drawn in QGIS: UTM 38N without a .prj, Azerbaijani columns and values, cp1254.

    Windows-1254 has no ə: files in it write e (TTE for TTƏ), which folding matches.
    """
    frame = gpd.GeoDataFrame(
        {
            "Sahe_ID": ["AGD-001", "AGD-002", "FUZ-001", "FUZ-002"],
            "Rayon": ["Ağdam rayonu", "AĞDAM", "Füzuli", "FÜZULİ R-NU"],
            "Tip": ["TTE", "ŞTE", "Tesdiqlenmiş tehlükeli erazi", "ŞTE"],
            "AP": [ap_first, 15, 40, 0],
            "AT": [8, 0, 2, 3],
            "Status": ["açıq", "icrada", "qismen", "bağlı"],
            "Menbe": ["ANAMA xeritesi", "namelum", "Şuşa qrupu", "ANAMA xeritesi"],
            "Tarix": ["22.02.2024", "03.01.2023", "NAMELUM", "15.11.2022"],
        },
        geometry=[
            *_squares([657_000, 658_000], 4_425_000),
            *_squares([670_000, 671_000], 4_425_000),
        ],
        crs="EPSG:32638",
    )
    path = folder / "sahələr.shp"
    _write(frame, path, "cp1254")
    path.with_suffix(".prj").unlink()  # an old export: the CRS only in the profile
    assert path.with_suffix(".cpg").read_text() == "CP1254"
    return path


def russian_releases(folder: Path) -> Path:
    """Released land kept in Russian: a Shapefile in cp1251 with its .prj (UTM 38N)."""
    frame = gpd.GeoDataFrame(
        {
            "Задача": ["З-17", "З-18", "З-19"],
            "Дата": ["20.03.2024", "05.04.2024", "12.04.2024"],
            "Метод": ["Очищено", "сокращено", "отменено"],
            "Участок": ["AGD-001", "AGD-002", "FUZ-001"],
            "ППМ": [4, 0, 0],
            "Организация": ["ANAMA", "HALO", "ANAMA"],
        },
        geometry=[
            shapely.box(657_000, 4_425_000, 657_100, 4_425_200),
            shapely.box(658_000, 4_425_000, 658_200, 4_425_050),
            shapely.box(670_000, 4_425_000, 670_200, 4_425_200),
        ],
        crs="EPSG:32638",
    )
    path = folder / "выпуск.shp"
    _write(frame, path, "cp1251")  # Организация is cut to 10 letters: Организаци
    return path


def russian_hazards(folder: Path) -> Path:
    """Hazards in Russian: cp1251 with a .prj, Russian columns, values and district forms."""
    frame = gpd.GeoDataFrame(
        {
            "Участок": ["Р-1", "Р-2"],
            "Район": ["Агдамский район", "Физулинский р-н"],
            "Тип": ["ПдОТ", "ПОТ"],
            "ППМ": [30, 5],
            "ПТМ": [2, 0],
            "Статус": ["открыт", "в работе"],
            "Источник": ["Карта 1993", "неизвестно"],
            "Дата": ["01.12.2023", "неизвестно"],
        },
        geometry=_squares([660_000], 4_428_000) + _squares([672_000], 4_428_000),
        crs="EPSG:32638",
    )
    path = folder / "участки.shp"
    _write(frame, path, "cp1251")
    return path


#: The profile of the source that draws hazards in QGIS, in Azerbaijani.
PROFILE = """\
description = "ANAMA's hazards, drawn in QGIS (Azerbaijani, cp1254, UTM 38N without .prj)"
date_order = "DMY"
crs = "EPSG:32638"
unknown = ["naməlum", "?"]

[hazards.columns]
hazard_id = "Sahe_ID"
source = "Menbe"

[hazards.values.status]
"qismən" = "worked_on"
"""

#: The profile of the source that keeps its lists in Russian: the vocabulary does the rest.
RU_PROFILE = """\
description = "The Russian-speaking team's hazards and release lists"
date_order = "DMY"
unknown = ["неизвестно"]
"""


@pytest.fixture
def week(tmp_path):
    folder = tmp_path / "week"
    folder.mkdir()
    profile, ru_profile = tmp_path / "anama.toml", tmp_path / "ru.toml"
    profile.write_text(PROFILE, encoding="utf-8")
    ru_profile.write_text(RU_PROFILE, encoding="utf-8")
    return {
        "hazards": azerbaijani_hazards(folder),
        "releases": russian_releases(folder),
        "ru_hazards": russian_hazards(folder),
        "profile": profile,
        "ru_profile": ru_profile,
    }


def test_an_azerbaijani_shapefile_validates_with_a_profile_and_no_map(runner, week):
    result = runner.invoke(
        main,
        [
            "validate",
            "--profile",
            str(week["profile"]),
            "--districts",
            DISTRICTS,
            str(week["hazards"]),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sahələr.shp: guessed hazards" in result.stderr
    assert "hazard_id ← Sahe_ID" in result.stderr
    assert "hazards: read 4, kept 4, rejected 0 (0 warning(s))" in result.stderr


def test_russian_shapefiles_validate_with_a_profile_and_no_map(runner, week):
    result = runner.invoke(
        main,
        [
            *("validate", "--profile", str(week["ru_profile"]), "--districts", DISTRICTS),
            *(str(week["ru_hazards"]), str(week["releases"])),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "участки.shp: guessed hazards" in result.stderr
    assert "hazard_id ← Участок, mines_ap ← ППМ, mines_at ← ПТМ" in result.stderr
    assert "выпуск.shp: guessed releases" in result.stderr
    assert "hazards: read 2, kept 2, rejected 0" in result.stderr
    assert "releases: read 3, kept 3, rejected 0" in result.stderr


def test_without_the_profile_the_same_files_say_what_to_put_in_one(runner, week):
    result = runner.invoke(main, ["validate", "--crs", "EPSG:32638", str(week["hazards"])])
    assert result.exit_code == 1
    # Day-first dates are read and said (date_order says so for good); a word nobody
    # knows needs [hazards.values.status].
    assert "submitted_on: dates read day-first (DD.MM.YYYY)" in result.stdout
    assert 'date_order = "DMY"' in result.stdout
    assert "status 'qismen' is not one of open, worked_on, closed" in result.stdout
    assert '[hazards.values.status] "qismen" = "open"' in result.stdout


def test_remaining_reads_the_week_and_counts_it_per_district(runner, week, tmp_path):
    table = tmp_path / "by_district.csv"
    result = runner.invoke(
        main,
        [
            *("remaining", "--profile", str(week["profile"])),
            *("--hazards", str(week["hazards"]), "--releases", str(week["releases"])),
            *("--districts", DISTRICTS, "--by-district", str(table)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "hazards: read 4, kept 4, rejected 0" in result.stderr
    assert "releases: read 3, kept 3, rejected 0" in result.stderr
    rows = pd.read_csv(table).set_index(s.DISTRICT)
    assert rows.loc["Aghdam", s.MAPPED_MINES] == 120 + 8 + 15 + 0
    assert rows.loc["Fuzuli", s.MAPPED_MINES] == 40 + 2 + 0 + 3
    # Two 200 m squares in each district; 2 ha and 1 ha released in Aghdam, 4 ha in Fuzuli.
    assert rows.loc["Aghdam", s.MAPPED_AREA_HA] == pytest.approx(8.0, rel=1e-3)
    assert rows.loc["Aghdam", s.RELEASED_AREA_HA] == pytest.approx(3.0, rel=1e-3)
    assert rows.loc["Fuzuli", s.RELEASED_AREA_HA] == pytest.approx(4.0, rel=1e-3)


def test_values_and_names_are_read_into_minemaps_own(week):
    from minemap import io as mio
    from minemap.profile import read_profile

    profile = read_profile(week["profile"])
    hazards = mio.read_hazards(week["hazards"], profile=profile)
    assert hazards[s.HAZARD_ID].tolist() == ["AGD-001", "AGD-002", "FUZ-001", "FUZ-002"]
    assert hazards[s.DISTRICT].tolist() == ["Aghdam", "Aghdam", "Fuzuli", "Fuzuli"]
    assert hazards[s.STATUS].tolist() == ["open", "worked_on", "worked_on", "closed"]
    assert hazards[s.CLASSIFICATION].tolist() == ["CHA", "SHA", "CHA", "SHA"]
    assert hazards[s.SOURCE].isna().tolist() == [False, True, False, False]
    assert hazards[s.SUBMITTED_ON].iloc[0] == pd.Timestamp("2024-02-22")
    assert hazards[s.SUBMITTED_ON].isna().tolist() == [False, False, True, False]
    ru_profile = read_profile(week["ru_profile"])
    ru = mio.read_hazards(week["ru_hazards"], profile=ru_profile)
    assert ru[s.DISTRICT].tolist() == ["Aghdam", "Fuzuli"]
    assert ru[s.CLASSIFICATION].tolist() == ["CHA", "SHA"]
    assert ru[s.STATUS].tolist() == ["open", "worked_on"]
    assert ru[s.SOURCE].isna().tolist() == [False, True]
    releases = mio.read_releases(week["releases"], profile=ru_profile)
    assert releases[s.METHOD].tolist() == ["cleared", "reduced", "cancelled"]
    assert releases[s.HAZARD_ID].tolist() == ["AGD-001", "AGD-002", "FUZ-001"]
    assert releases[s.ORGANISATION].tolist() == ["ANAMA", "HALO", "ANAMA"]
    assert releases[s.RELEASED_ON].tolist() == list(
        pd.to_datetime(["2024-03-20", "2024-04-05", "2024-04-12"])
    )


def test_a_mapped_required_column_missing_from_a_file_names_the_file(runner, week):
    # The Azerbaijani source's profile on the Russian team's file: no Sahe_ID there.
    result = runner.invoke(
        main,
        [
            *("remaining", "--profile", str(week["profile"])),
            *("--hazards", str(week["ru_hazards"]), "--releases", str(week["releases"])),
        ],
    )
    assert result.exit_code == 1
    assert f"{week['ru_hazards']}: column 'Sahe_ID' (mapped to hazard_id)" in result.stderr
    assert "Участок" in result.stderr


def test_crs_on_the_command_line_wins_over_the_profile(runner, week, tmp_path):
    # The profile says UTM 38N; --crs UTM 39N puts the squares 6 degrees east, off Aghdam.
    table = tmp_path / "t.csv"
    result = runner.invoke(
        main,
        [
            *("remaining", "--profile", str(week["profile"]), "--crs", "EPSG:32639"),
            *("--hazards", str(week["hazards"]), "--releases", str(week["releases"])),
            *("--districts", DISTRICTS, "--by-district", str(table)),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(table).set_index(s.DISTRICT)
    assert rows.loc[s.UNASSIGNED, s.MAPPED_MINES] == 120 + 8 + 15 + 40 + 2 + 3


def test_a_shapefile_without_cpg_is_read_in_the_profiles_encoding(runner, week, tmp_path):
    week["hazards"].with_suffix(".cpg").unlink()
    refused = runner.invoke(
        main, ["validate", "--crs", "EPSG:32638", "--kind", "hazards", str(week["hazards"])]
    )
    assert refused.exit_code == 1
    profile = tmp_path / "encoding.toml"
    profile.write_text(PROFILE.replace("date_order", 'encoding = "cp1254"\ndate_order'), "utf-8")
    result = runner.invoke(
        main,
        ["validate", "--profile", str(profile), "--districts", DISTRICTS, str(week["hazards"])],
    )
    assert result.exit_code == 0, result.output
    assert "hazards: read 4, kept 4, rejected 0" in result.stderr


def test_a_google_earth_kml_goes_in_with_constants(runner, tmp_path):
    kml = google_earth_kml(tmp_path / "cleared.kml")
    profile = tmp_path / "kml.toml"
    profile.write_text(
        '[releases.columns]\nrelease_id = "Name"\n'
        '[releases.constants]\nmethod = "cleared"\nreleased_on = 2024-02-19\n',
        encoding="utf-8",
    )
    checked = runner.invoke(main, ["validate", "--profile", str(profile), str(kml)])
    assert checked.exit_code == 0, checked.output
    assert "cleared.kml: guessed releases" in checked.stderr
    assert "the profile's [releases.constants]" in checked.stderr
    assert "releases: read 21, kept 21, rejected 0" in checked.stderr
    table = tmp_path / "t.csv"
    result = runner.invoke(
        main,
        [
            *("remaining", "--profile", str(profile), "--hazards", HAZARDS),
            *("--releases", str(kml), "--by-district", str(table)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "releases: read 21, kept 21, rejected 0" in result.stderr


# --- minemap profile draft ---------------------------------------------------------------


def test_a_draft_lists_columns_and_values_and_round_trips(runner, week, tmp_path):
    from minemap.profile import read_profile

    out = tmp_path / "draft.toml"
    result = runner.invoke(
        main, ["profile", "draft", str(week["hazards"]), "--kind", "hazards", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert 'hazard_id = "Sahe_ID"' in text
    assert 'district = "Rayon"' in text
    assert 'submitted_on = "Tarix"' in text
    assert '"açıq" = "open"' in text
    assert '"ŞTE" = "SHA"' in text
    assert '# "qismen" = ""' in text  # left for the user
    assert 'date_order = "DMY"' in text
    assert '# crs = ""' in text  # the file has none
    assert 'unknown = ["namelum"]' in text
    draft = read_profile(out)  # loads as it is
    assert draft["hazards"].values["status"]["icrada"] == "worked_on"
    # Not yet enough: the file has no CRS, and qismen is nobody's word.
    refused = runner.invoke(main, ["validate", "--profile", str(out), str(week["hazards"])])
    assert refused.exit_code == 1
    filled = text.replace('# crs = ""', 'crs = "EPSG:32638"').replace(
        '# "qismen" = ""', '"qismen" = "worked_on"'
    )
    out.write_text(filled, encoding="utf-8")
    result = runner.invoke(
        main, ["validate", "--profile", str(out), "--districts", DISTRICTS, str(week["hazards"])]
    )
    assert result.exit_code == 0, result.output
    assert "hazards: read 4, kept 4, rejected 0" in result.stderr


def test_a_draft_of_russian_releases_and_of_several_files(runner, week):
    result = runner.invoke(main, ["profile", "draft", str(week["releases"]), "--kind", "releases"])
    assert result.exit_code == 0, result.output
    assert 'release_id = "Задача"' in result.stdout
    assert 'organisation = "Организаци"' in result.stdout  # cut to 10 letters by the format
    assert '"Очищено" = "cleared"' in result.stdout
    assert "WGS 84 / UTM zone 38N" in result.stdout
    both = runner.invoke(
        main,
        ["profile", "draft", str(week["hazards"]), str(week["ru_hazards"]), "--kind", "hazards"],
    )
    assert both.exit_code == 0, both.output
    assert 'hazard_id = "Sahe_ID"  # Azerbaijani name minemap knows; other files call it' in (
        both.stdout
    )
    assert '"открыт" = "open"' in both.stdout
    assert '"неизвестно"' in both.stdout


def test_a_draft_names_unknown_districts_and_keeps_an_encoding(runner, week, tmp_path):
    frame = gpd.read_file(HAZARDS)
    frame[s.DISTRICT] = ["Ağdam rayonu", "Agdamm", "Atlantis", "Füzuli", "Füzuli"]
    path = tmp_path / "hz.geojson"
    frame.to_file(path)
    result = runner.invoke(main, ["profile", "draft", str(path), "--kind", "hazards"])
    assert result.exit_code == 0, result.output
    assert "[hazards.values.district]" in result.stdout
    assert '# "Agdamm" = ""  # 1 feature(s); closest known: Aghdam' in result.stdout
    assert '# "Atlantis" = ""' in result.stdout
    assert "Füzuli" not in result.stdout.split("[hazards.values.district]")[1]
    week["hazards"].with_suffix(".cpg").unlink()
    refused = runner.invoke(main, ["profile", "draft", str(week["hazards"]), "--kind", "hazards"])
    assert refused.exit_code == 1
    assert "--encoding" in refused.stderr
    read = runner.invoke(
        main,
        ["profile", "draft", str(week["hazards"]), "--kind", "hazards", "--encoding", "cp1254"],
    )
    assert read.exit_code == 0, read.output
    assert 'encoding = "cp1254"' in read.stdout
    assert '"açıq" = "open"' in read.stdout


def test_a_draft_refuses_to_overwrite_and_bad_usage(runner, week, tmp_path):
    out = tmp_path / "p.toml"
    out.write_text("x", encoding="utf-8")
    args = ["profile", "draft", str(week["hazards"]), "--kind", "hazards", "-o", str(out)]
    assert runner.invoke(main, args).exit_code == 1
    assert out.read_text(encoding="utf-8") == "x"
    assert runner.invoke(main, [*args, "--overwrite"]).exit_code == 0
    no_kind = runner.invoke(main, ["profile", "draft", str(week["hazards"])])
    assert no_kind.exit_code == 2
    bad = runner.invoke(
        main, ["profile", "draft", str(week["hazards"]), "--kind", "hazards", "--encoding", "x"]
    )
    assert bad.exit_code == 2


# --- a workspace remembers the profile of a source ------------------------------------------


def test_a_workspace_remembers_a_sources_profile_and_log_shows_it(
    runner, week, tmp_path, new_workspace
):
    """On both kinds of workspace: a GeoPackage, and a PostgreSQL database."""
    import json

    workspace = new_workspace
    assert runner.invoke(main, ["init", str(workspace)]).exit_code == 0
    first = runner.invoke(
        main,
        [
            *("add", "hazards", str(workspace), str(week["hazards"])),
            *("--source", "ANAMA", "--profile", str(week["profile"])),
        ],
    )
    assert first.exit_code == 0, first.output
    assert "hazards: read 4, kept 4, rejected 0" in first.stderr
    # Next week's file from the same source: no --profile, the stored one is used, and said.
    again = azerbaijani_hazards(tmp_path, ap_first=110)  # AGD-001 corrected
    second = runner.invoke(
        main, ["add", "hazards", str(workspace), str(again), "--source", "ANAMA"]
    )
    assert second.exit_code == 0, second.output
    assert "read with the profile" in second.stderr
    assert "anama.toml" in second.stderr
    assert "import #1" in second.stderr
    assert "hazards: read 4, kept 4, rejected 0" in second.stderr
    assert "1 superseded" in second.stdout
    # Another source has no stored profile: the Russian team's files read with their own.
    third = runner.invoke(
        main,
        [
            *("add", "releases", str(workspace), str(week["releases"])),
            *("--source", "Russian team", "--profile", str(week["ru_profile"])),
        ],
    )
    assert third.exit_code == 0, third.output
    assert "read with the profile" not in third.stderr
    # log: the profile's name in the table, its text in JSON and with --profile.
    table = runner.invoke(main, ["log", str(workspace)])
    assert table.exit_code == 0, table.output
    assert "profile" in table.stdout.splitlines()[0]
    assert table.stdout.count("anama.toml") == 2
    assert "ru.toml" in table.stdout
    records = json.loads(runner.invoke(main, ["log", str(workspace), "--json"]).stdout)
    stored = records[0]["read_options"]["profile"]
    assert stored["name"].endswith("anama.toml")
    assert stored["text"] == PROFILE
    assert records[1]["read_options"]["profile"]["text"] == PROFILE
    shown = runner.invoke(main, ["log", str(workspace), "--import", "3", "--profile"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == RU_PROFILE
    # What the workspace holds was read through the profiles: remaining works from it.
    result = runner.invoke(
        main, ["remaining", "--workspace", str(workspace), "--districts", DISTRICTS]
    )
    assert result.exit_code == 0, result.output


def test_log_profile_needs_an_import_that_had_one(runner, tmp_path):
    workspace = tmp_path / "ws.gpkg"
    runner.invoke(main, ["init", str(workspace)])
    runner.invoke(main, ["add", "hazards", str(workspace), HAZARDS])
    assert runner.invoke(main, ["log", str(workspace), "--profile"]).exit_code == 2
    assert runner.invoke(main, ["log", str(workspace), "--import", "9", "--profile"]).exit_code == 2
    none = runner.invoke(main, ["log", str(workspace), "--import", "1", "--profile"])
    assert none.exit_code == 1
    assert "read without a profile" in none.stderr
