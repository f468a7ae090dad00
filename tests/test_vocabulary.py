"""The built-in vocabularies (minemap.vocabulary): values and column names in other languages."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minemap import schema as s
from minemap import vocabulary as v

LANGUAGES = {"en", "az", "az-Cyrl", "ru"}
ENUMS = {c: a for enums in s.ENUM_COLUMNS.values() for c, a in enums.items()}


def test_every_term_has_a_known_value_language_and_source():
    for term in v.terms():
        assert term.language in LANGUAGES, term
        assert term.source in v.SOURCES, term
        assert term.term, term
        assert term.term.strip() == term.term, term
        if "." in term.what:
            kind, column = term.what.split(".")
            assert column in (*s.REQUIRED[kind], *s.OPTIONAL[kind]), term
        else:
            assert term.means in ENUMS[term.what], term


def test_no_term_means_two_things():
    seen: dict[tuple[str, str], str] = {}
    for term in v.terms():
        # A value term within its column; a column name within its layer kind.
        key = (term.what.split(".")[0], v.fold(term.term))
        assert seen.setdefault(key, term.means) == term.means, term


def test_column_names_do_not_clash_with_english_aliases_of_another_column():
    for kind in s.LAYER_KINDS:
        english = {
            v.fold(name): column
            for column, names in s.COLUMN_ALIASES[kind].items()
            for name in (column, *names)
        }
        for column, names in v.column_names(kind).items():
            for name in names:
                assert english.get(v.fold(name), column) == column, (kind, column, name)


@pytest.mark.parametrize(
    ("column", "written", "value"),
    [
        ("status", "açıq", "open"),
        ("status", "ACIQ", "open"),
        ("status", "İcrada", "worked_on"),
        ("status", "в работе", "worked_on"),
        ("status", "Закрыт", "closed"),
        ("status", "бағлы", "closed"),
        ("method", "ləğv", "cancelled"),
        ("method", "отменено", "cancelled"),
        ("method", "azaldılmış", "reduced"),
        ("method", "сокращено", "reduced"),
        ("method", "təmizlənmiş", "cleared"),
        ("method", "Очищено", "cleared"),
        ("item_type", "PPM", "AP"),
        ("item_type", "ППМ", "AP"),
        ("item_type", "TƏM", "AT"),
        ("item_type", "tem", "AT"),
        ("item_type", "ПТМ", "AT"),
        ("item_type", "PHS", "UXO"),
        ("item_type", "НВБ", "UXO"),
        ("classification", "ПОТ", "SHA"),
        ("classification", "ПдОТ", "CHA"),
        ("classification", "подтвержденная опасная территория", "CHA"),
        ("classification", "Şübhəli təhlükəli ərazi", "SHA"),
        ("classification", "təsdiqlənmiş təhlükəli ərazi", "CHA"),
        ("status", "worked on", "worked_on"),
        ("classification", "TTE", "CHA"),  # Windows-1254 has no ə
        ("classification", "Tesdiqlenmiş tehlükeli erazi", "CHA"),
        ("classification", "Täsdiqlänmiş", "CHA"),  # the 1991 alphabet wrote ä for ə
        ("status", "OPEN", "open"),
    ],
)
def test_values_are_matched_whatever_the_case_accents_and_script(column, written, value):
    assert v.normalise_values(pd.Series([written]), column).tolist() == [value]


def test_unknown_values_stay_unknown():
    out = v.normalise_values(pd.Series(["qismən", None, "", "opened?"]), "status")
    assert out.isna().all()


@pytest.mark.parametrize(
    ("kind", "name", "column"),
    [
        ("hazards", "Sahe_ID", "hazard_id"),
        ("hazards", "Menbe", "source"),
        ("hazards", "Tarix", "submitted_on"),
        ("hazards", "Статус", "status"),
        ("hazards", "Район", "district"),
        ("hazards", "ПП мины", "mines_ap"),
        ("releases", "Дата", "released_on"),
        ("releases", "Tapşırıq", "release_id"),
        ("items", "Тип", "item_type"),
    ],
)
def test_column_names_of_other_languages(kind, name, column):
    names = {v.fold(n) for n in v.column_names(kind)[column]}
    assert v.fold(name) in names


@given(st.text(max_size=30))
def test_fold_is_idempotent(text):
    assert v.fold(v.fold(text)) == v.fold(text)
