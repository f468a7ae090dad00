"""Text from files, shown safely (minemap._text): short, and without control characters.

Messages quote at most a few dozen characters of any value, and nothing the
command line prints (tables on stdout; summaries, warnings and errors on
stderr) carries a raw control character: a district named
``ESC ] 0 ; pwned BEL`` must not retitle the terminal.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from minemap import io as mio
from minemap._text import MAX_SHOWN, escape, escape_controls, show
from minemap.cli import main

DATA = Path(__file__).parent / "data"
RELEASES = str(DATA / "small_releases.geojson")
PWNED = "\x1b]0;pwned\x07"
#: What may never reach a terminal: C0 controls but tab and newline, DEL, C1, bidi overrides.
RAW = [chr(c) for c in (*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))] + [
    "\u202e",
    "\u2066",
    "\u2028",
]
TEN_MB = 10 * 1024**2


def _raw_controls(text: str) -> list[str]:
    return sorted({c for c in text if c in RAW})


# --- show and escape ----------------------------------------------------------------------


def test_show_quotes_short_values_as_written():
    assert show("31/02/2022") == "'31/02/2022'"
    assert show("FOO-42") == "'FOO-42'"
    assert show(1.5) == "1.5"
    assert show(3) == "3"
    assert show(None) == "None"


def test_show_cuts_long_values_and_says_how_long_they_were():
    shown = show("x" * TEN_MB)
    assert shown == f"'{'x' * MAX_SHOWN}…' ({TEN_MB:,} characters)"
    assert len(escape("y" * TEN_MB)) < 80


@pytest.mark.parametrize("char", RAW)
def test_no_control_character_survives(char):
    value = f"a{char}b"
    assert not _raw_controls(show(value))
    assert not _raw_controls(escape(value))
    assert not _raw_controls(escape_controls(value))


def test_escapes_are_visible_and_text_is_kept():
    assert escape(f"Ağdam{PWNED}") == "Ağdam\\x1b]0;pwned\\x07"
    assert escape_controls("line\r\nnext\tcell") == "line\\r\nnext\tcell"
    assert escape_controls("a\u202eb\x9bc") == "a\\u202eb\\u009bc"
    assert escape("Шуша") == "Шуша"


# --- messages from hostile values -------------------------------------------------------


def _layer(path: Path, rows: list[dict]) -> Path:
    """A GeoJSON of one small square per row, written as is (GDAL would retype values)."""
    features = [
        {
            "type": "Feature",
            "properties": row,
            "geometry": shapely.geometry.mapping(
                shapely.box(46.85 + i * 0.02, 39.95, 46.86 + i * 0.02, 39.96)
            ),
        }
        for i, row in enumerate(rows)
    ]
    layer = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")
    return path


def _csv(path: Path, rows: list[dict]) -> Path:
    """A CSV of one small square per row (a CSV holds values of any length)."""
    table = pd.DataFrame(rows)
    table["wkt"] = [
        shapely.box(46.85 + i * 0.02, 39.95, 46.86 + i * 0.02, 39.96).wkt for i in range(len(rows))
    ]
    table.to_csv(path, index=False)
    return path


def test_ten_megabyte_values_are_never_echoed(tmp_path):
    huge = "x" * TEN_MB
    path = _csv(
        tmp_path / "hazards.csv",
        [
            {
                "hazard_id": "H" + huge,
                "mines_ap": "1" + huge,
                "mines_at": 0,
                "district": "D" + huge,
                "classification": "C" + huge,
                "submitted_on": "2" + huge,
            },
            {
                "hazard_id": "H" + huge,
                "mines_ap": 1,
                "mines_at": 0,
                "district": "Aghdam",
                "classification": "SHA",
                "submitted_on": "2022-01-01",
            },
        ],
    )
    result = CliRunner().invoke(main, ["validate", "--crs", "EPSG:4326", str(path)])
    assert result.exit_code == 1
    rules = ("bad-count", "unknown-district", "unknown-value", "bad-date", "duplicate-id")
    for rule in rules:
        assert rule in result.stdout
    # Every problem was reported, each in a line of a few hundred characters at most.
    assert len(result.stdout) + len(result.stderr) < 6000
    assert max(len(line) for line in result.stdout.splitlines()) < 600
    assert "x" * (MAX_SHOWN + 1) not in result.stdout


def test_a_ten_megabyte_column_name_is_not_echoed(tmp_path):
    path = _csv(tmp_path / "hazards.csv", [{"hazard_id": "H-1", "c" * TEN_MB: 1}])
    loaded = mio.load_layers([path], "hazards", crs="EPSG:4326")
    (problem,) = loaded.errors
    assert problem.rule == "missing-column"
    assert len(problem.message) < 600


def test_names_in_read_errors_are_short_and_escaped(tmp_path):
    path = tmp_path / "hazards.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"readme{PWNED}{'r' * 1000}.txt", "nothing here")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert not _raw_controls(error)
    assert "\\x1b]0;pwned\\x07" in error
    assert len(error) < 400


# --- the command line prints no control character ------------------------------------


@pytest.fixture
def hostile(tmp_path):
    """A districts layer and hazards whose names and ids carry a terminal title sequence."""
    districts = _layer(tmp_path / "districts.geojson", [{"district": f"Ağdam{PWNED}"}])
    district = gpd.read_file(districts).geometry.iloc[0]
    hazards = tmp_path / "hazards.geojson"
    ring = list(district.exterior.coords)[:-1]  # not closed: a warning names the id
    layer = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "hazard_id": f"AG{PWNED}1\u202e",
                    "mines_ap": 10,
                    "mines_at": 0,
                    "district": f"Ağdam{PWNED}",
                    "source": f"map{PWNED}",
                },
                "geometry": {"type": "Polygon", "coordinates": [[list(c) for c in ring]]},
            }
        ],
    }
    hazards.write_text(json.dumps(layer), encoding="utf-8")
    return {"hazards": hazards, "districts": districts}


def _assert_escaped(*texts: str) -> None:
    for text in texts:
        assert not _raw_controls(text.replace("\r", "")), _raw_controls(text)
    joined = "".join(texts)
    assert "\\x1b]0;pwned\\x07" in joined


def test_district_names_and_ids_come_out_escaped_on_both_streams(hostile):
    result = CliRunner().invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(hostile["hazards"]),
            "--releases",
            RELEASES,
            "--districts",
            str(hostile["districts"]),
        ],
    )
    assert result.exit_code == 0, result.output
    _assert_escaped(result.stdout)  # the table: district names
    _assert_escaped(result.stderr)  # the warnings: the id
    assert "AG\\x1b]0;pwned\\x071\\u202e" in result.stderr
    assert "Ağdam\\x1b]0;pwned\\x07" in result.stdout


def test_validate_prints_ids_escaped_and_its_json_stays_json(hostile):
    result = CliRunner().invoke(main, ["validate", str(hostile["hazards"])])
    _assert_escaped(result.stdout)
    result = CliRunner().invoke(main, ["validate", "--json", str(hostile["hazards"])])
    assert not _raw_controls(result.stdout)
    problems = json.loads(result.stdout)
    assert any(PWNED in p["feature"] or "pwned" in p["feature"] for p in problems)


def test_source_text_comes_out_escaped(hostile, tmp_path):
    workspace = tmp_path / "ws.gpkg"
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(workspace)]).exit_code == 0
    added = runner.invoke(
        main,
        ["add", "hazards", str(workspace), str(hostile["hazards"]), "--source", f"MAG{PWNED}"],
    )
    # Its one feature names an unknown district, so the import is wholly rejected (exit 1)
    # and still logged with its source: both are printed.
    assert added.exit_code == 1, added.output
    _assert_escaped(added.stdout, added.stderr)
    log = runner.invoke(main, ["log", str(workspace)])
    assert log.exit_code == 0, log.output
    _assert_escaped(log.stdout)


def test_errors_and_usage_errors_come_out_escaped(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path / f"missing{PWNED}.geojson")])
    assert result.exit_code == 1
    _assert_escaped(result.stderr)
    result = CliRunner().invoke(main, ["validate", "--crs", f"EPSG{PWNED}", "x.geojson"])
    assert result.exit_code == 2
    _assert_escaped(result.stderr)


def test_a_progress_bar_still_redraws_its_line(hostile):
    """tqdm's carriage returns stay (they start its writes); anything else's are escaped."""
    result = CliRunner().invoke(
        main,
        [
            "remaining",
            "--hazards",
            str(hostile["hazards"]),
            "--releases",
            RELEASES,
            "--districts",
            str(hostile["districts"]),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "\\r" not in result.stderr


# --- bulletins, minefield records and MGRS quote values the same way --------------------

#: A value from a hostile file: a terminal escape, a right-to-left override, and length.
HOSTILE = PWNED + "\u202e" + "9" * 10_000


def _assert_short_and_escaped(message: str) -> None:
    assert not _raw_controls(message), message[:200]
    assert "9" * (MAX_SHOWN + 1) not in message
    assert len(message) < 600, len(message)
    assert "\\x1b]0;pwned\\x07" in message


@pytest.mark.parametrize(
    "text",
    [
        HOSTILE,  # not a number
        "1,23,4" + HOSTILE,  # digit groups that are not thousands groups
        "12 " + HOSTILE + " (5)",  # a figure in parentheses beside one that is not
        "12 furlongs" + HOSTILE,  # an unknown unit
    ],
)
def test_bulletin_figures_are_quoted_short_and_escaped(text):
    from minemap.bulletins import parse_number

    problem = parse_number(text).problem
    assert problem
    _assert_short_and_escaped(problem)


def test_bulletin_dates_are_quoted_short_and_escaped(tmp_path):
    from minemap.bulletins import read_reports

    path = tmp_path / "bulletins.csv"
    pd.DataFrame(
        {
            "period_type": ["week"],
            "period_start": [HOSTILE],
            "period_end": ["x" + HOSTILE],
            "ap_mines": [1],
            "hectares_cleared": [2.5],
        }
    ).to_csv(path, index=False)
    (problem,) = read_reports(path, today="2026-01-01")["problem"]
    assert "period_start" in problem
    assert "period_end" in problem
    assert not _raw_controls(problem)
    assert len(problem) < 1000


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.parse_mgrs(HOSTILE),
        lambda m: m.parse_mgrs("38TNK" + HOSTILE),
        lambda m: m.utm_to_latlon(HOSTILE, "N", 500000, 4400000),
        lambda m: m.utm_to_latlon("38" + HOSTILE, "N", 500000, 4400000),
        lambda m: m.utm_to_latlon(38, HOSTILE, 500000, 4400000),
    ],
)
def test_mgrs_errors_quote_short_and_escaped(call):
    from minemap import mgrs

    with pytest.raises(mgrs.MGRSError) as caught:
        call(mgrs)
    _assert_short_and_escaped(str(caught.value))


def test_minefield_record_messages_quote_short_and_escaped(tmp_path):
    from minemap.errors import MinemapError
    from minemap.records import read_record

    record = {
        "record_id": "AGD-1",
        HOSTILE: 1,
        "mines": [{"type": HOSTILE, "category": "XX", "count": 1}],
        "points": [
            {"id": HOSTILE, "role": "reference", "lat": 40.0, "lon": 46.9, HOSTILE: 2},
            {"id": "TP1", "role": "perimeter", "mgrs": "38TNK" + HOSTILE},
        ],
    }
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    with pytest.raises(MinemapError) as caught:
        read_record(path)
    message = str(caught.value)
    assert not _raw_controls(message)
    assert "9" * (MAX_SHOWN + 1) not in message
    assert "unknown record field(s)" in message
    assert "unknown field(s)" in message
    assert "MGRS reference" in message
    assert len(message) < 3000


def test_minefield_record_columns_quote_short_and_escaped(tmp_path):
    from minemap.errors import MinemapError
    from minemap.records import read_record

    path = tmp_path / "record.csv"
    path.write_text(f"# record_id: AGD-1\nid,role,{HOSTILE}\nRP1,reference,1\n")
    with pytest.raises(MinemapError) as caught:
        read_record(path)
    _assert_short_and_escaped(str(caught.value))
