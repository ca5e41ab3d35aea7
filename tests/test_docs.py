"""The docs cover the CLI: every command has a section in docs/guide.md naming each of its options,
every command and option has help text, and every command with --json has a schema in docs/json.md."""

import re
from pathlib import Path

import click
import pytest

from clapsearch.cli import cli

DOCS = Path(__file__).resolve().parent.parent / "docs"
COMMANDS = sorted(cli.commands)


def guide_section(command: str) -> str:
    text = (DOCS / "guide.md").read_text()
    match = re.search(rf"^### `clapsearch {command}`\n(.*?)(?=^##|\Z)", text, re.S | re.M)
    assert match, f"docs/guide.md has no '### `clapsearch {command}`' section"
    return match.group(1)


def options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option)]


def test_the_commands_are_the_issue_s_commands():
    assert COMMANDS == ["index", "info", "label", "models", "prune", "query", "serve", "similar", "tag"]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_and_option_is_documented_and_has_help(name):
    command = cli.commands[name]
    assert command.help, f"`clapsearch {name}` has no help text"
    section = guide_section(name)
    shared = (DOCS / "guide.md").read_text().split("## Options shared by every command", 1)[1]
    for option in options(command):
        assert option.help, f"`clapsearch {name}` option {option.opts} has no help text"
        long_names = [o for o in option.opts if o.startswith("--")] or option.opts
        documented = any(f"`{o}" in section or f"`{o}" in shared for o in long_names)
        assert documented, f"option {long_names[0]} of `clapsearch {name}` is missing from docs/guide.md"


@pytest.mark.parametrize("name", [n for n in COMMANDS if any(o.name == "json_" for o in options(cli.commands[n]))])
def test_every_json_output_has_a_schema(name):
    assert re.search(rf"^## .*`{name}`", (DOCS / "json.md").read_text(), re.M), f"docs/json.md lacks `{name}`"


def test_guide_links_the_other_pages():
    guide = (DOCS / "guide.md").read_text()
    for page in ("json.md", "troubleshooting.md", "architecture.md", "serve.md"):
        assert (DOCS / page).exists() and f"({page})" in guide
