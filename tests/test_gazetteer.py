"""The gazetteer (minemap.gazetteer): district names as data, from files and layers."""

from __future__ import annotations

import doctest
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from minemap import gazetteer, profile, vocabulary
from minemap import schema as s
from minemap.errors import InputFileError

#: Every spelling the district table of the schema knew before the gazetteer, by key:
#: the gazetteer must know them all still.
EARLIER = {
    "Aghdam": ("Agdam", "Ağdam", "Akna", "Агдам", "AZ-AGM"),
    "Fuzuli": ("Fizuli", "Füzuli", "Fuzuly", "Varanda", "Физули", "AZ-FUZ"),
    "Zangilan": ("Zəngilan", "Zengilan", "Zangelan", "Kovsakan", "Зангилан", "Зангелан", "AZ-ZAN"),
    "Jabrayil": (
        "Jabrail",
        "Jebrail",
        "Jabrayel",
        "Djabrail",
        "Cəbrayıl",
        "Cabrayil",
        "Cebrayil",
        "Джебраил",
        "Джабраил",
        "AZ-CAB",
    ),
    "Gubadli": ("Gubadly", "Qubadli", "Qubadlı", "Kubatly", "Kubadly", "Губадлы", "AZ-QBI"),
    "Lachin": ("Laçın", "Lacin", "Lachyn", "Berdzor", "Kashatagh", "Лачин", "AZ-LAC"),
    "Kalbajar": (
        "Kelbajar",
        "Kəlbəcər",
        "Kelbecer",
        "Kalbacar",
        "Karvachar",
        "Кельбаджар",
        "Кельбаджары",
        "AZ-KAL",
    ),
    "Khojaly": (
        "Khojali",
        "Xocalı",
        "Xocali",
        "Khodjaly",
        "Hojaly",
        "Askeran",
        "Ходжалы",
        "AZ-XCI",
    ),
    "Khojavend": (
        "Xocavənd",
        "Xocavend",
        "Khojavand",
        "Khodjavend",
        "Hojavend",
        "Martuni",
        "Ходжавенд",
        "AZ-XVD",
    ),
    "Shusha": ("Şuşa", "Susa", "Shushi", "Shusa", "Шуша", "AZ-SUS"),
    "Tartar": ("Terter", "Tərtər", "Tertar", "Mir Bashir", "Тертер", "AZ-TAR"),
    "Aghdara": ("Agdara", "Ağdərə", "Agdere", "Aghdere", "Martakert", "Mardakert", "Агдере"),
    "Khankandi": (
        "Khankendi",
        "Xankəndi",
        "Xankandi",
        "Xankendi",
        "Hankendi",
        "Stepanakert",
        "Ханкенди",
        "Степанакерт",
        "AZ-XA",
    ),
}


def test_doctests():
    for module in (gazetteer, vocabulary, profile):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("key", sorted(EARLIER))
def test_every_earlier_spelling_is_still_known(key):
    for spelling in (key, *EARLIER[key]):
        assert gazetteer.builtin().canonical(spelling) == key, spelling


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("Агдамский", "Aghdam"),
        ("Агдамский район", "Aghdam"),
        ("Физулинский район", "Fuzuli"),
        ("Ağdam rayonu", "Aghdam"),
        ("Füzuli", "Fuzuli"),
        ("FÜZULİ RAYONU", "Fuzuli"),
        ("Ходжалинский р-н", "Khojaly"),
        ("Тертерский район", "Tartar"),
        ("Агдеринский", "Aghdara"),
        ("Ҹәбрајыл", "Jabrayil"),
        ("Кәлбәҹәр рајону", "Kalbajar"),
        ("г. Шуша", "Shusha"),
        ("Кубатлинский район", "Gubadli"),
        ("Gədəbəy", "Gədəbəy"),
        ("AZ-TOV", "Tovuz"),
        ("Zängilan", "Zangilan"),
        ("Tertersky", None),
    ],
)
def test_azerbaijan_ships_with_adjective_and_unit_forms(spelling, key):
    assert gazetteer.builtin().canonical(spelling) == key


def test_no_spelling_leads_to_two_districts():
    built = gazetteer.builtin()
    for key in built.keys:
        for name in built.names(key):
            assert built.canonical(name) == key, (key, name)


def test_shipped_rows_name_their_language_and_source():
    import csv
    from importlib import resources

    text = resources.files("minemap.gazetteer").joinpath("AZ.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) > 200
    for row in rows:
        assert row["source"] in gazetteer.SOURCES, row
        assert row["language"] in {"en", "az", "az-Cyrl", "ru", "hy-Latn", "iso"}, row


def test_schema_holds_no_place_names():
    text = Path(s.__file__).read_text(encoding="utf-8")
    for word in (
        "DISTRICT_ALIASES",
        "DISTRICT_NAMES",
        "pycountry",
        "AZ-AGM",
        "Kəlbəcər",
        "Кельбаджар",
    ):
        assert word not in text


def test_a_districts_layer_makes_a_gazetteer_of_its_name_columns():
    layer = pd.DataFrame(
        {
            s.DISTRICT: ["Syunik", "Tavush"],
            "name_hy": ["Սյունիք", "Տավուշ"],
            "name:ru": ["Сюник", "Тавуш"],
            "ADM1_PCODE": ["AM09", "AM10"],
            "VARNAME_1": ["Siunik|Zangezur", None],
            s.ISO_3166_2: ["AM-SU", "AM-TV"],
            "population": ["141771", "121000"],
        }
    )
    g = gazetteer.Gazetteer.from_layer(layer)
    for spelling in ("Սյունիք", "сюник", "AM09", "Zangezur", "siunik", "AM-SU", "Syunik Province"):
        assert g.canonical(spelling) == "Syunik", spelling
    assert g.canonical("Tavush") == "Tavush"
    assert g.canonical("141771") is None
    assert g.names("Syunik")[0] == "Syunik"


def test_an_iso_code_in_a_layer_brings_its_official_name():
    layer = pd.DataFrame({s.DISTRICT: ["Province 9"], s.ISO_3166_2: ["AM-SU"]})
    g = gazetteer.Gazetteer.from_layer(layer)
    official = g.names("Province 9")
    assert g.canonical(official[-1]) == "Province 9"
    assert len(official) == 3


def test_read_gazetteer_csv_and_toml(tmp_path):
    path = tmp_path / "am.csv"
    path.write_text("district,name,language\nSyunik,Սյունիք,hy\nSyunik,Zangezur,en\n", "utf-8")
    g = gazetteer.read_gazetteer(path)
    assert g.canonical("Zangezur") == "Syunik"
    assert g.canonical("syunik") == "Syunik"
    toml = tmp_path / "am.toml"
    toml.write_text('Syunik = ["Սյունիք", "AM-SU"]\nTavush = "Տավուշ"\n', "utf-8")
    g = gazetteer.read_gazetteer(toml)
    assert g.canonical("AM-SU") == "Syunik"
    assert g.canonical("Տավուշ") == "Tavush"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "g.csv",
            "place,spelling\nA,B\n",
            "line 1: a gazetteer CSV needs the columns district,name",
        ),
        ("g.csv", "district,name\nA,B\n,C\n", "line 3: no district"),
        ("g.toml", 'A = ["B"]\nC = 5\n', "line 2: 'C' must be a name or a list of names"),
        ("g.toml", "A = [\n", "line 1: not valid TOML"),
        ("g.csv", b"district,name\nA,\xff\n", "is not UTF-8 text"),
    ],
)
def test_a_bad_gazetteer_says_which_line(tmp_path, name, text, expected):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    with pytest.raises(InputFileError, match=expected.replace("(", r"\(")) as caught:
        gazetteer.read_gazetteer(path)
    assert str(path) in str(caught.value)


def test_using_adds_names_for_a_block_only():
    extra = gazetteer.Gazetteer({"Syunik": ["Սյունիք"]})
    assert s.canonical_district("Սյունիք") is None
    with gazetteer.using(extra):
        assert s.canonical_district("Սյունիք") == "Syunik"
        assert s.canonical_district("Ağdam") == "Aghdam"
    assert s.canonical_district("Սյունիք") is None


def test_a_users_spelling_wins_over_the_builtin_one():
    extra = gazetteer.Gazetteer({"Agdam town": ["Agdam"]})
    with gazetteer.using(extra):
        assert s.canonical_district("Agdam") == "Agdam town"
        assert s.canonical_district("Aghdam") == "Aghdam"


@given(st.text(max_size=30))
def test_folding_is_idempotent_and_closest_never_fails(text):
    folded = gazetteer.fold_place(text)
    assert gazetteer.fold_place(folded) == folded
    assert len(gazetteer.builtin().closest(text)) <= 3


def test_validate_finds_hazards_named_in_a_layers_own_language():
    from minemap.validate import check_layer

    box = shapely.box(44.0, 39.0, 44.1, 39.1)
    districts = gpd.GeoDataFrame(
        {s.DISTRICT: ["Syunik"], "name_hy": ["Սյունիք"]}, geometry=[box], crs="EPSG:4326"
    )
    hazards = gpd.GeoDataFrame(
        {s.HAZARD_ID: ["H1"], s.MINES_AP: [1], s.MINES_AT: [0], s.DISTRICT: ["Սյունիք"]},
        geometry=[shapely.box(44.01, 39.01, 44.02, 39.02)],
        crs="EPSG:4326",
    )
    cleaned, problems, rejected = check_layer(hazards, "hazards", districts=districts)
    assert not rejected.any(), problems
    assert cleaned[s.DISTRICT].tolist() == ["Syunik"]


def test_gazetteer_option_makes_another_countrys_names_known(tmp_path):
    from click.testing import CliRunner

    from minemap.cli import main

    hazards = gpd.GeoDataFrame(
        {
            s.HAZARD_ID: ["H1", "H2"],
            s.MINES_AP: [1, 2],
            s.MINES_AT: [0, 0],
            s.DISTRICT: ["Սյունիք", "Zangezur"],
        },
        geometry=[shapely.box(46.0, 39.2, 46.01, 39.21), shapely.box(46.02, 39.2, 46.03, 39.21)],
        crs="EPSG:4326",
    )
    path = tmp_path / "hz.geojson"
    hazards.to_file(path)
    places = tmp_path / "places.csv"
    places.write_text("district,name\nSyunik,Սյունիք\nSyunik,Zangezur\n", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(main, ["validate", str(path)])
    assert refused.exit_code == 1
    assert "--gazetteer FILE" in refused.stdout
    assert "gazetteer=" not in refused.stdout
    result = runner.invoke(main, ["validate", "--gazetteer", str(places), str(path)])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("where,what\n", encoding="utf-8")
    usage = runner.invoke(main, ["validate", "--gazetteer", str(bad), str(path)])
    assert usage.exit_code == 2
    assert "district,name" in usage.stderr
    # The names are known for the command only.
    assert s.canonical_district("Zangezur") is None
