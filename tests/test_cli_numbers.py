"""Every number a command takes is a finite number.

``float("nan")`` passes every range check (each comparison with NaN is false), so
``--max-misclosure nan`` turned the misclosure check off; ``inf`` and ``1e999``
do the same from the other end. Every float option of every command uses
:class:`minemap.commands._common.FiniteFloat`, which refuses them as a usage error.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from minemap.cli import main
from minemap.commands._common import FiniteFloat

NOT_FINITE = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999", "-1e400"]


def _commands(group: click.Group, path=()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _float_options():
    return [
        (path, param)
        for path, command in _commands(main)
        for param in command.params
        if isinstance(param.type, click.types.FloatParamType)
    ]


FLOAT_OPTIONS = _float_options()


def test_the_float_options_are_found():
    names = {(" ".join(path), param.opts[0]) for path, param in FLOAT_OPTIONS}
    # The ones known when this test was written; new ones are checked as well.
    assert {
        ("record", "--max-misclosure"),
        ("record", "--warn-misclosure"),
        ("validate", "--max-segment-km"),
        ("density", "--cell-size"),
        ("accuracy", "--tolerance"),
        ("accuracy", "--search"),
    } <= names


@pytest.mark.parametrize(
    ("path", "param"),
    FLOAT_OPTIONS,
    ids=[f"{' '.join(p)} {q.opts[0]}" for p, q in FLOAT_OPTIONS],
)
def test_every_float_option_is_a_finite_float(path, param):
    assert isinstance(param.type, FiniteFloat), (path, param.name, param.type)


@pytest.mark.parametrize("value", NOT_FINITE)
@pytest.mark.parametrize(
    ("path", "param"),
    FLOAT_OPTIONS,
    ids=[f"{' '.join(p)} {q.opts[0]}" for p, q in FLOAT_OPTIONS],
)
def test_every_float_option_refuses_nan_and_infinity(path, param, value):
    option = param.opts[-1]
    result = CliRunner().invoke(main, [*path, f"{option}={value}"])
    assert result.exit_code == 2, result.output
    assert option in result.stderr
    assert "not a finite number" in result.stderr
    assert "Traceback" not in result.output


def test_max_misclosure_nan_does_not_turn_the_check_off(tmp_path):
    """The case of the audit: a record that misses its start by 50 m, with nan."""
    record = tmp_path / "record.csv"
    record.write_text("point,azimuth,distance_m\nSP,,\n1,0,100\n2,90,100\n3,180,100\n4,270,50\n")
    result = CliRunner().invoke(main, ["record", str(record), "--max-misclosure", "nan"])
    assert result.exit_code == 2, result.output
    assert "--max-misclosure" in result.stderr


def test_finite_float_keeps_its_range_and_converts():
    kind = FiniteFloat(min=0, min_open=True)
    assert kind.convert("2.5", None, None) == 2.5
    assert kind.convert(3, None, None) == 3.0
    with pytest.raises(click.BadParameter, match="not in the range"):
        kind.convert("0", None, None)
    with pytest.raises(click.BadParameter, match="not a finite number"):
        kind.convert(float("nan"), None, None)
    with pytest.raises(click.BadParameter, match="not a valid float"):
        kind.convert("five", None, None)


@pytest.mark.parametrize("value", ["nan", "inf", "1e999", "-inf"])
def test_priority_weights_refuse_nan_and_infinity(value):
    result = CliRunner().invoke(main, ["priorities", "--weight", f"density={value}"])
    assert result.exit_code == 2, result.output
    assert "--weight" in result.stderr
    assert "Traceback" not in result.output
