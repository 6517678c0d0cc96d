"""Every subcommand's own ``--help`` says what it does in a line and ends with examples that parse."""

from __future__ import annotations

import argparse
import shlex

import pytest

from portal_archive.cli import EXAMPLES, build_parser


def subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[prefix + name] = sub
                found |= subcommands(sub, f"{prefix}{name} ")
    return found


PARSERS = subcommands(build_parser())


def test_every_subcommand_has_examples() -> None:
    leaves = {name for name, parser in PARSERS.items() if not subcommands(parser)}
    assert leaves == set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_help_opens_with_a_description_and_ends_with_examples(name: str) -> None:
    parser = PARSERS[name]
    text = parser.format_help()
    assert parser.description and parser.description[0].isupper(), name
    if name in EXAMPLES:
        tail = text.rstrip().splitlines()[-len(EXAMPLES[name]) :]
        assert [line.strip() for line in tail] == list(EXAMPLES[name])


@pytest.mark.parametrize(("name", "example"), [(name, line) for name, lines in EXAMPLES.items() for line in lines])
def test_examples_are_valid_command_lines(name: str, example: str) -> None:
    words = shlex.split(example, comments=True)
    assert words[0] == "portal-archive" and " ".join(words[1:]).startswith(name)
    args = build_parser().parse_args(words[1:])  # exits (SystemExit) on anything it cannot parse
    assert callable(args.func)
