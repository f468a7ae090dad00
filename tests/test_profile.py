"""Import profiles (minemap.profile): reading, checking, applying; bad ones on the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from minemap import profile as mp
from minemap import schema as s
from minemap.cli import main
from minemap.profile import ProfileError, ReadSettings, parse_profile

HAZARDS = str(Path(__file__).parent / "data" / "small_hazards.geojson")

CONTRACT = """\
# top level: for every kind read with this profile
date_order = "DMY"
decimal = ","
encoding = "cp1254"
crs = "EPSG:32638"
unknown = ["?", "naməlum", "неизвестно"]

[hazards.columns]
hazard_id = "Sahe_ID"
[hazards.values.status]
"açıq" = "open"
[releases.constants]
method = "cleared"
"""


def test_the_contract_of_the_issue_reads():
    p = parse_profile(CONTRACT, name="p.toml")
    hazards = p["hazards"]
    assert hazards.settings == ReadSettings(
        date_order="DMY", decimal=",", encoding="cp1254", unknown=("?", "naməlum", "неизвестно")
    )
    assert hazards.crs == "EPSG:32638"
    assert hazards.columns == {"hazard_id": "Sahe_ID"}
    assert hazards.values == {"status": {"açıq": "open"}}
    assert p["releases"].constants == {"method": "cleared"}
    assert p["releases"].settings.decimal == ","


def test_a_kind_table_sets_the_top_level_again_for_its_kind():
    p = parse_profile(
        'crs = "EPSG:32638"\ndate_order = "DMY"\n[items]\ncrs = "EPSG:4326"\ndate_order = "YMD"\n'
    )
    assert p.crs("items") == "EPSG:4326"
    assert p.crs("hazards") == "EPSG:32638"
    assert p.settings("items").date_order == "YMD"
    assert p.settings("releases").date_order == "DMY"
    assert p.crs("items", "EPSG:32639") == "EPSG:32639"  # --crs wins


def test_map_wins_over_the_profile():
    p = parse_profile('[hazards.columns]\nhazard_id = "Sahe_ID"\nmines_ap = "PPM"\n')
    assert p.mapping("hazards", {"mines_ap": "AP_X"}) == {
        "hazard_id": "Sahe_ID",
        "mines_ap": "AP_X",
    }


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('date_order = "DMY"\ndateorder = "DMY"\n', 2, ["unknown key 'dateorder'"]),
        ('[hazards]\ncolumn = {hazard_id = "X"}\n', 2, ["[hazards]", "unknown key 'column'"]),
        ("[hazard.columns]\nhazard_id = 'X'\n", 1, ["unknown key 'hazard'"]),
        (
            '[hazards.columns]\nhazard_id = "Sahe_ID"\nhazrd_ids = "X"\n',
            3,
            ["'hazrd_ids' is not a minemap column of hazards", "did you mean hazard_id"],
        ),
        (
            '\n[hazards.values.status]\n"açıq" = "open"\n"icrada" = "in_work"\n',
            4,
            ["'in_work' is not a value minemap knows for status", "open, worked_on, closed"],
        ),
        (
            '[releases.constants]\nmethod = "cleard"\n',
            2,
            ["'cleard' is not a value minemap knows for method"],
        ),
        ('[hazards.values.colour]\n"red" = "open"\n', 1, ["'colour' is not a minemap column"]),
        ("date_order = 3\n", 1, ["date_order must be one of", "whole number 3"]),
        ('date_order = "DM"\n', 1, ["date_order must be one of"]),
        ('decimal = ";"\n', 1, ['decimal must be "," or "."']),
        ('unknown = "?"\n', 1, ["unknown must be a list of texts"]),
        ('encoding = "klingon"\n', 1, ["encoding 'klingon' is not one Python knows"]),
        ('crs = "EPSG:99999"\n', 1, ["crs 'EPSG:99999' is not a coordinate reference system"]),
        (
            "[hazards.columns]\nhazard_id = 5\n",
            2,
            ["hazard_id must name a column", "whole number 5"],
        ),
        ("[hazards.constants]\nmines_ap = -1\n", 2, ["mines_ap must be a whole number ≥ 0"]),
        ("[releases]\nconstants = 5\n", 2, ["constants must be a table"]),
        (
            '[releases.columns]\nmethod = "Type"\n[releases.constants]\nmethod = "cleared"\n',
            4,
            ["method is both taken from a column"],
        ),
        ('a = "b"\n[hazards\n', 2, ["not valid TOML"]),
        ('date_order = "DMY"\ndate_order = "MDY"\n', 2, ["not valid TOML"]),
        ('unknown = ["?",\n', 1, ["not valid TOML"]),
        ('hazards = "all"\n', 1, ["hazards must be a table"]),
        (
            '[hazards]\ncolumns.hazard_id = "X"\ncolumns.nope = "Y"\n',
            3,
            ["'nope' is not a minemap column"],
        ),
        ('[hazards]\ncolumns = { hazard_id = "X", nope = "Y" }\n', 2, ["'nope' is not"]),
    ],
)
def test_a_bad_profile_says_the_key_and_the_line(text, line, words):
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, name="bad.toml")
    error = caught.value
    assert error.line == line, str(error)
    assert str(error).startswith(f"bad.toml, line {line}: ")
    for word in words:
        assert word in str(error)


def test_values_and_constants_are_canonical():
    p = parse_profile(
        '[hazards.values.status]\n"icrada" = "Worked On"\n"x" = "OPEN"\n'
        "[items.constants]\nitem_type = 'uxo'\n[releases.constants]\nreleased_on = 2024-02-22\n"
        "[hazards.constants]\nsource = 'ANAMA'\nmines_at = 0\n"
    )
    assert p["hazards"].values["status"] == {"icrada": "worked_on", "x": "open"}
    assert p["items"].constants == {"item_type": "UXO"}
    assert p["releases"].constants == {"released_on": "2024-02-22"}
    assert p["hazards"].constants == {"source": "ANAMA", "mines_at": 0}


def test_apply_recodes_sets_constants_and_blanks_unknown_tokens():
    p = parse_profile(
        'unknown = ["?", "naməlum"]\n[hazards.values.status]\n"Qismən" = "worked_on"\n'
        '[hazards.constants]\nsource = "ANAMA"\n'
    )
    frame = pd.DataFrame(
        {
            s.STATUS: ["qismən", "açıq", " QİSMƏN "],
            s.MINES_AP: ["3", "?", "Naməlum"],
            s.SOURCE: ["x", "y", "z"],
        }
    )
    out = p.apply(frame, "hazards")
    assert out[s.STATUS].tolist() == ["worked_on", "açıq", "worked_on"]
    assert out[s.MINES_AP].isna().tolist() == [False, True, True]
    assert out[s.SOURCE].tolist() == ["ANAMA"] * 3
    assert out["source_unmapped"].tolist() == ["x", "y", "z"]
    assert frame[s.STATUS].tolist() == ["qismən", "açıq", " QİSMƏN "]  # input untouched
    kept = p.apply(frame, "hazards", mapped={s.SOURCE: "Menbe"})
    assert kept[s.SOURCE].tolist() == ["x", "y", "z"]


def test_read_settings_read_numbers_and_dates_as_the_source_writes_them():
    comma = ReadSettings(decimal=",")
    assert comma.to_numbers(pd.Series(["1 234", "12,0", "1.234.567", "x", None])).tolist()[:3] == [
        1234.0,
        12.0,
        1234567.0,
    ]
    dmy = ReadSettings(date_order="DMY").parse_dates(pd.Series(["22.02.2024", "01/03/2024"]))
    assert dmy.tolist() == [pd.Timestamp("2024-02-22"), pd.Timestamp("2024-03-01")]
    mdy = ReadSettings(date_order="MDY").parse_dates(pd.Series(["01/03/2024", "12.31.99"]))
    assert mdy.tolist() == [pd.Timestamp("2024-01-03"), pd.Timestamp("1999-12-31")]
    ymd = ReadSettings(date_order="YMD").parse_dates(pd.Series(["2024.02.22", "31.01.2024"]))
    assert ymd.iloc[0] == pd.Timestamp("2024-02-22")
    assert pd.isna(ymd.iloc[1])
    bad = ReadSettings(date_order="DMY").parse_dates(pd.Series(["31.02.2024", "13.13.2024"]))
    assert bad.isna().all()
    assert ReadSettings().parse_dates(pd.Series(["22.02.2024"])).isna().all()


def test_check_layer_reads_day_first_dates_decimal_commas_and_unknowns_with_settings():
    import geopandas as gpd
    import shapely

    from minemap.validate import check_layer

    frame = gpd.GeoDataFrame(
        {
            s.RELEASE_ID: ["R1", "R2"],
            s.RELEASED_ON: ["22.02.2024", "?"],
            s.METHOD: ["təmizlənmiş", "очищено"],
            s.ITEMS_AP: ["1.234", "3"],
        },
        geometry=[shapely.box(46.9, 39.9, 46.91, 39.91), shapely.box(46.92, 39.9, 46.93, 39.91)],
        crs="EPSG:4326",
    )
    settings = ReadSettings(date_order="DMY", decimal=",", unknown=("?",))
    cleaned, problems, _rejected = check_layer(
        frame, "releases", settings=settings, today=dt.date(2025, 1, 1)
    )
    assert [(p.feature, p.rule) for p in problems] == [("release_id R2", "missing-date")]
    assert cleaned[s.RELEASED_ON].iloc[0] == pd.Timestamp("2024-02-22")
    assert cleaned[s.ITEMS_AP].tolist()[0] == 1234
    assert cleaned[s.METHOD].tolist() == ["cleared", "cleared"]
    plain, problems, _ = check_layer(frame, "releases", today=dt.date(2025, 1, 1))
    # Without the settings: 22.02.2024 can only be day-first (read, and said); 1.234 is
    # a thousand or one (refused, naming decimal); "?" is not known anyway.
    found = [(p.feature, p.rule) for p in problems]
    assert ("", "date-order") in found
    assert ("release_id R1", "ambiguous-number") in found
    assert plain[s.RELEASED_ON].iloc[0] == pd.Timestamp("2024-02-22")


# --- on the command line --------------------------------------------------------------


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('dateorder = "DMY"\n', "line 1: unknown key 'dateorder'"),
        ('[hazards.values.status]\n"açıq" = "opened"\n', "line 2: [hazards.values.status]"),
        ("[hazards\n", "line 1: not valid TOML"),
        ("date_order = 3\n", "line 1: date_order must be one of"),
        ("[hazards.columns]\nhazard_id = true\n", "line 2: [hazards.columns] hazard_id must"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "remaining"])
def test_a_bad_profile_is_a_usage_error_with_key_and_line(
    runner, tmp_path, text, expected, command
):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    args = [HAZARDS] if command == "validate" else ["--hazards", HAZARDS, "--releases", HAZARDS]
    result = runner.invoke(main, [command, "--profile", str(path), *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{path}, {expected}" in " ".join(result.stderr.split())


def test_a_missing_or_binary_profile_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["validate", "--profile", str(tmp_path / "none.toml"), HAZARDS])
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"a = 1\n\xff\xfe\n")
    result = runner.invoke(main, ["validate", "--profile", str(binary), HAZARDS])
    assert result.exit_code == 2
    assert "line 2: is not UTF-8 text" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        "validate",
        "remaining",
        "map",
        "report",
        "progress",
        "accuracy",
        "density",
        "priorities",
        "add",
    ],
)
def test_every_command_that_reads_layers_takes_a_profile_and_a_gazetteer(runner, command):
    text = runner.invoke(main, [command, "--help"]).output
    assert "--profile" in text
    assert "--gazetteer" in text


def test_doctests():
    import doctest

    assert doctest.testmod(mp).failed == 0


@pytest.mark.parametrize(
    "text",
    ["a = " + "[" * 100_000, "a = " + "{b = " * 50_000, "[" + "a." * 100_000 + "b]", "\x00"],
)
def test_hostile_profiles_are_profile_errors(text):
    with pytest.raises(ProfileError):
        parse_profile(text)


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_is_a_profile_or_a_profile_error(text):
    error = _error_of(text)
    assert error is None or error.problem


def _error_of(text: str) -> ProfileError | None:
    """The ProfileError of a text, or None when it is a profile (anything else escapes)."""
    try:
        parse_profile(text)
    except ProfileError as exc:
        return exc
    return None


KEYS = st.sampled_from(["date_order", "decimal", "crs", "unknown", "hazards", "columns", "x"])
VALUES = st.one_of(
    st.integers(),
    st.text(max_size=8),
    st.lists(st.text(max_size=4), max_size=3),
    st.booleans(),
    st.dates(),
)


@given(
    st.recursive(
        st.dictionaries(KEYS, VALUES, max_size=4),
        lambda inner: st.dictionaries(
            KEYS | st.sampled_from(list(s.LAYER_KINDS)), inner, max_size=3
        ),
        max_leaves=12,
    )
)
@settings(max_examples=200, deadline=None)
def test_any_toml_structure_is_a_profile_or_an_error_with_a_line(data):
    text = _dump(data)
    error = _error_of(text)
    if error is not None:
        assert error.problem
        assert error.line is None or 1 <= error.line <= max(1, len(text.splitlines()))


def _dump(data: dict, prefix: tuple[str, ...] = ()) -> str:
    """A small TOML writer for the property test (tables after plain keys)."""
    plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines = [f"[{'.'.join(prefix)}]"] if prefix else []
    for key, value in plain.items():
        lines.append(f"{key} = {_value(value)}")
    text = "\n".join(lines) + "\n"
    for key, value in tables.items():
        text += _dump(value, (*prefix, key))
    return text


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | dt.date):
        return str(value)
    if isinstance(value, str):
        return mp.toml_string(value)
    return "[" + ", ".join(_value(v) for v in value) + "]"
