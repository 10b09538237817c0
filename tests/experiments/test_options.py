"""Every numeric option of every command is checked by one mechanism (experiments/options.py)."""

from __future__ import annotations

import argparse

import pytest

from sparft.experiments import cli, options


def _commands():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices.items())


def _numeric(action: argparse.Action) -> bool:
    return action.type in (int, float) or action.type in options.NUMERIC_TYPES


COMMANDS = _commands()


def test_every_command_is_walked():
    assert {name for name, _ in COMMANDS} == set(cli.COMMANDS)


@pytest.mark.parametrize("name,parser", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_no_numeric_option_bypasses_the_checked_types(name, parser):
    for action in parser._actions:
        assert action.type not in (int, float), (
            f"sparft {name} {'/'.join(action.option_strings)} uses a bare {action.type.__name__}; "
            "use a type from sparft.experiments.options"
        )


@pytest.mark.parametrize("name,parser", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_out_of_range_numbers_are_refused_in_one_line(name, parser, capsys):
    checked = [a for a in parser._actions if _numeric(a) and a.option_strings]
    for action in checked:
        bad = {options.count: "0", options.positive: "0", options.fraction: "1.5"}.get(
            action.type, "-1"
        )
        assert cli.main([name, action.option_strings[0], bad]) == cli.EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and action.option_strings[0] in err and "expected" in err, err


@pytest.mark.parametrize(
    "kind,good,bad",
    [
        (options.count, ["1", "16"], ["0", "-3", "1.5", "x", ""]),
        (options.natural, ["0", "7"], ["-1", "2.0", "nan"]),
        (options.positive, ["1e-6", "3"], ["0", "-1", "inf", "nan", "x"]),
        (options.nonnegative, ["0", "2.5"], ["-0.1", "inf"]),
        (options.fraction, ["0", "0.5", "1"], ["-0.01", "1.01", "nan"]),
        (options.seed_list, ["0", "0,2,4", " 1 , 3 "], ["", ",", "0,-1", "a,b"]),
    ],
)
def test_each_type_takes_its_range_and_nothing_else(kind, good, bad):
    for text in good:
        kind(text)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match="expected"):
            kind(text)


def test_seed_lists_parse_to_integers():
    assert options.seed_list("0, 2,4") == [0, 2, 4]
