"""The command line's shared options: one meaning and one spelling each, old spellings kept."""

from __future__ import annotations

import json
from pathlib import Path

import click
import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from minemap import contamination
from minemap import schema as s
from minemap.cli import main
from minemap.commands._common import OutputFile
from minemap.commands._common import read_options as _read_options
from minemap.commands._options import Option

DATA = Path(__file__).parent / "data"
HAZARDS = str(DATA / "small_hazards.geojson")
RELEASES = str(DATA / "small_releases.geojson")
DISTRICTS = str(DATA / "small_districts.geojson")

#: Commands that compute remaining ground (hazards minus released land).
REMAINING_GROUND = ["remaining", "map", "report", "priorities", "density", "accuracy", "demo"]


@pytest.fixture
def runner():
    return CliRunner()


def _commands():
    return sorted(main.commands.items())


def _leaf_commands():
    for name, command in _commands():
        if isinstance(command, click.Group):
            for sub, leaf in sorted(command.commands.items()):
                yield f"{name} {sub}", leaf
        else:
            yield name, command


def _shown(param) -> list[str]:
    old = set(getattr(param, "old_spellings", ()))
    return [o for o in [*param.opts, *param.secondary_opts] if o not in old]


def _help(runner, *command) -> str:
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


# --- -o/--output: the one file a command writes ---------------------------------


@pytest.mark.parametrize(("name", "command"), list(_leaf_commands()))
def test_o_is_always_the_one_file_written(name, command):
    for param in command.params:
        if "-o" in _shown(param) or "--output" in _shown(param):
            assert _shown(param) == ["-o", "--output"], (name, param.opts)
            assert param.name == "output", name
            assert isinstance(param.type, OutputFile), (name, param.type)
            assert not param.type.dir_okay, name


@pytest.mark.parametrize("name", ["demo", "progress"])
def test_a_folder_is_output_dir_and_o_still_works_there(runner, name, tmp_path):
    command = main.commands[name]
    (param,) = [p for p in command.params if p.name == "output"]
    assert _shown(param) == ["--output-dir"]
    assert set(param.old_spellings) == {"-o", "--output"}
    text = _help(runner, name)
    assert "--output-dir DIR" in text
    assert "-o," not in text
    assert "--output " not in text
    inputs = [] if name == "demo" else ["--releases", RELEASES]
    for spelling in ("--output-dir", "-o", "--output"):
        ctx = command.make_context(name, [*inputs, spelling, str(tmp_path / "out")])
        assert ctx.params["output"] == tmp_path / "out"


def test_progress_writes_into_output_dir_and_old_o(runner, tmp_path):
    for spelling, folder in (("--output-dir", "new"), ("-o", "old")):
        result = runner.invoke(
            main, ["progress", "--releases", RELEASES, "-q", spelling, str(tmp_path / folder)]
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / folder / "progress.csv").is_file()
        assert (tmp_path / folder / "forecast.csv").is_file()
    new = (tmp_path / "new" / "progress.csv").read_bytes()
    assert new == (tmp_path / "old" / "progress.csv").read_bytes()


def test_a_missing_output_dir_is_named_by_its_new_spelling(runner):
    result = runner.invoke(main, ["progress", "--releases", RELEASES])
    assert result.exit_code == 2
    assert "Missing option '--output-dir'" in result.output
    assert "'-o'" not in result.output


# --- --rejects FILE --------------------------------------------------------------


@pytest.mark.parametrize(("name", "command"), list(_leaf_commands()))
def test_rejects_is_a_file_wherever_it_is_shown(name, command):
    for param in command.params:
        if "--rejects" in _shown(param):
            assert isinstance(param.type, OutputFile), name
            assert not param.is_flag, name


def _workspace_with_a_reject(runner, tmp_path) -> Path:
    ws = tmp_path / "ws.gpkg"
    bad = gpd.read_file(HAZARDS)
    bad.loc[1, s.MINES_AP] = -5
    path = tmp_path / "hazards.geojson"
    bad.to_file(path)
    assert runner.invoke(main, ["init", str(ws)]).exit_code == 0
    added = runner.invoke(main, ["add", "hazards", str(ws), str(path)])
    assert added.exit_code == 0, added.output
    return ws


def test_log_lists_rejected_features_with_rejected_and_the_old_rejects(runner, tmp_path):
    ws = _workspace_with_a_reject(runner, tmp_path)
    listed = {}
    for spelling in ("--rejected", "--rejects"):
        result = runner.invoke(main, ["log", str(ws), spelling, "--json"])
        assert result.exit_code == 0, result.output
        listed[spelling] = json.loads(result.stdout)
    assert [r[s.FEATURE_ID] for r in listed["--rejected"]] == ["AGM-2"]
    assert listed["--rejects"] == listed["--rejected"]
    text = _help(runner, "log")
    assert "--rejected" in text
    assert "--rejects" not in text
    refused = runner.invoke(main, ["log", str(ws), "--import", "1"])
    assert refused.exit_code == 2
    assert "--import N goes with --rejected or --profile" in refused.output


# --- -v/-q on the group and on the command ----------------------------------------


def _far_releases(tmp_path, n: int) -> str:
    """``n`` releases far from every hazard: one warning each (outside-hazards)."""
    far = gpd.GeoDataFrame(
        {
            "release_id": [f"R-far-{i}" for i in range(n)],
            "released_on": ["2022-01-03"] * n,
            "method": ["cancelled"] * n,
        },
        geometry=[
            shapely.box(46.60 + 0.01 * i, 39.60, 46.605 + 0.01 * i, 39.605) for i in range(n)
        ],
        crs=4326,
    )
    path = tmp_path / "far.geojson"
    far.to_file(path)
    return str(path)


@pytest.mark.parametrize("where", ["group", "command"])
def test_v_lists_every_warning_before_or_after_the_command(runner, tmp_path, where):
    far = _far_releases(tmp_path, 12)
    plain = runner.invoke(main, ["validate", HAZARDS, far])
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.count("outside-hazards") == 1
    args = (
        ["-v", "validate", HAZARDS, far] if where == "group" else ["validate", HAZARDS, far, "-v"]
    )
    every = runner.invoke(main, args)
    assert every.exit_code == 0, every.output
    assert every.stdout.count("outside-hazards") == 12


def test_v_counts_add_up_across_group_and_command(runner):
    from minemap.commands import _common

    seen = []

    @click.command()
    @_common.verbosity
    def probe():
        seen.append((_common.verbose(), _common.quiet()))

    main.add_command(probe, "probe-verbosity")
    try:
        for args in (
            ["probe-verbosity"],
            ["-v", "probe-verbosity"],
            ["probe-verbosity", "-v"],
            ["-v", "probe-verbosity", "-v"],
            ["-q", "probe-verbosity"],
            ["probe-verbosity", "-q"],
        ):
            result = runner.invoke(main, args)
            assert result.exit_code == 0, result.output
    finally:
        main.commands.pop("probe-verbosity")
    assert seen == [(0, False), (1, False), (1, False), (2, False), (0, True), (0, True)]


@pytest.mark.parametrize("where", ["group", "command"])
def test_q_silences_the_summary_before_or_after_the_command(runner, where):
    plain = runner.invoke(main, ["validate", "--kind", "hazards", HAZARDS])
    assert plain.exit_code == 0, plain.output
    assert "feature(s)" in plain.stderr
    args = ["validate", "--kind", "hazards", HAZARDS]
    args = ["-q", *args] if where == "group" else [*args, "-q"]
    quiet = runner.invoke(main, args)
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    assert quiet.stdout == plain.stdout


def test_the_group_shows_v_and_q(runner):
    text = _help(runner)
    assert "-v, --verbose" in text
    assert "-q, --quiet" in text


# --- --workspace and --engine wherever remaining ground is computed ----------------


@pytest.mark.parametrize("name", [*(c for c in REMAINING_GROUND if c != "demo"), "progress"])
def test_workspace_on_every_command_that_reads_the_layers_it_counts(name):
    params = {o for p in main.commands[name].params for o in p.opts}
    assert {"--workspace", "--known-on"} <= params


@pytest.mark.parametrize("name", REMAINING_GROUND)
def test_engine_on_every_command_that_computes_remaining_ground(runner, name):
    params = {o for p in main.commands[name].params for o in p.opts}
    assert {"--engine", "--scheduler", "--chunk-size"} <= params
    # --scheduler is for Dask only, whatever the command.
    result = runner.invoke(main, [name, "--engine", "local", "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "only used with --engine dask" in result.output


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("report", ["-o", "{tmp}/r.html"]),
        ("priorities", ["-o", "{tmp}/p.csv"]),
        ("density", ["--cell-size", "500", "-o", "{tmp}/d.tif"]),
    ],
)
def test_the_engine_given_reaches_the_computation(runner, tmp_path, monkeypatch, name, args):
    real = contamination.remaining
    calls = []

    def spy(*a, **kw):
        calls.append({k: kw.get(k) for k in ("engine", "chunk_size")})
        return real(*a, **kw)

    monkeypatch.setattr(contamination, "remaining", spy)
    base = ["--hazards", HAZARDS, "--releases", RELEASES, "--districts", DISTRICTS, "-q"]
    command = [name, *base, *(a.format(tmp=tmp_path) for a in args)]
    result = runner.invoke(main, [*command, "--engine", "local", "--chunk-size", "2"])
    assert result.exit_code == 0, result.output
    assert calls
    assert all(c == {"engine": "local", "chunk_size": 2} for c in calls), calls


def test_accuracy_map_ground_takes_the_engine(runner, tmp_path, monkeypatch):
    real = contamination.remaining
    calls = []

    def spy(*a, **kw):
        calls.append(kw.get("chunk_size"))
        return real(*a, **kw)

    monkeypatch.setattr(contamination, "remaining", spy)
    items = gpd.GeoDataFrame(
        {"item_id": ["I1"], "found_on": ["2022-07-19"], "item_type": ["AP"]},
        geometry=[gpd.read_file(HAZARDS).geometry.iloc[0].representative_point()],
        crs=4326,
    )
    items.to_file(tmp_path / "items.geojson")
    result = runner.invoke(
        main,
        [
            "accuracy",
            "--hazards",
            HAZARDS,
            "--items",
            str(tmp_path / "items.geojson"),
            "-o",
            str(tmp_path / "a.csv"),
            "--html",
            str(tmp_path / "a.html"),
            "--chunk-size",
            "3",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert calls == [3]


# --- lengths in metres ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "command"), list(_leaf_commands()))
def test_lengths_are_given_in_metres(runner, name, command):
    for param in command.params:
        spelled = [*param.opts, *param.secondary_opts]
        if any(o.endswith("-km") for o in spelled):
            assert param.hidden, (name, spelled)  # an earlier spelling, not shown
    text = _help(runner, *name.split())
    assert "-km" not in text
    assert "kilomet" not in text.lower()


def test_max_segment_km_still_works_in_metres(runner, tmp_path):
    from minemap.commands._common import max_segment_m

    seen = []

    @click.command()
    @_read_options
    def probe():
        seen.append(max_segment_m())

    for args in (["--max-segment", "2500"], ["--max-segment-km", "2.5"]):
        result = CliRunner().invoke(probe, args)
        assert result.exit_code == 0, result.output
    assert seen == [2500.0, 2500.0]


# --- hidden aliases ----------------------------------------------------------------


def test_an_old_spelling_works_but_is_not_shown():
    @click.command()
    @click.option("--new", "value", cls=Option, old=("--old", "-x"), default="none")
    def command(value):
        click.echo(value)

    runner = CliRunner()
    assert runner.invoke(command, ["--new", "a"]).output == "a\n"
    assert runner.invoke(command, ["--old", "b"]).output == "b\n"
    assert runner.invoke(command, ["-x", "c"]).output == "c\n"
    text = runner.invoke(command, ["--help"]).output
    assert "--new" in text
    assert "--old" not in text
    assert "-x" not in text
    missing = runner.invoke(command, ["--new"])
    assert missing.exit_code == 2


# --- one definition each --------------------------------------------------------------

#: Options every command spells and means the same way: each declared in one module.
SHARED = [
    "-o",
    "--output",
    "--output-dir",
    "--rejects",
    "--workspace",
    "--known-on",
    "--engine",
    "--scheduler",
    "--chunk-size",
    "-v",
    "-q",
    "--crs",
    "--map",
    "--max-segment",
    "--gazetteer",
]


def _declared_options():
    """``{option: {module, ...}}`` of every ``click.option(...)`` in the command line's code."""
    import ast

    import minemap

    root = Path(minemap.__file__).parent
    found: dict[str, set[str]] = {}
    for path in [root / "cli.py", *sorted((root / "commands").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = getattr(node, "func", None)
            named = getattr(func, "attr", None) or getattr(func, "id", None)
            if isinstance(node, ast.Call) and named == "option":
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and str(arg.value).startswith("-"):
                        found.setdefault(arg.value, set()).add(path.name)
    return found


@pytest.mark.parametrize("option", SHARED)
def test_each_shared_option_is_declared_once(option):
    declared = _declared_options()
    assert len(declared.get(option, ())) == 1, (option, declared.get(option))
