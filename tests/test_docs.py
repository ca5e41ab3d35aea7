"""The docs cover the CLI: every command has a section in docs/guide.md naming each of its options,
every command and option has help text, and every command with --json has a schema in the shipped
clapsearch/docs/json.md (which `clapsearch schema` prints)."""

import re
from pathlib import Path

import click
import pytest

from clapsearch.cli import cli

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
SCHEMAS = REPO / "clapsearch" / "docs" / "json.md"
COMMANDS = sorted(cli.commands)


def guide_section(command: str) -> str:
    text = (DOCS / "guide.md").read_text()
    match = re.search(rf"^### `clapsearch {command}`\n(.*?)(?=^##|\Z)", text, re.S | re.M)
    assert match, f"docs/guide.md has no '### `clapsearch {command}`' section"
    return match.group(1)


def options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option)]


def test_the_design_s_commands_exist():
    assert {"index", "info", "label", "models", "prune", "query", "schema", "serve", "similar", "tag"} <= set(COMMANDS)


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
    from clapsearch.schemas import schema_text

    assert re.search(rf"^## .*`{name}`", SCHEMAS.read_text(), re.M), f"clapsearch/docs/json.md lacks `{name}`"
    assert f"`{name}`" in schema_text(name).splitlines()[0]


def test_schema_command_prints_the_shipped_schemas_and_names_unknown_commands():
    from click.testing import CliRunner

    runner = CliRunner()
    whole = runner.invoke(cli, ["schema"])
    assert whole.exit_code == 0 and whole.output.strip() == SCHEMAS.read_text().strip()
    one = runner.invoke(cli, ["schema", "index"])
    assert one.output.startswith("## `index`") and "## `info`" not in one.output
    bad = runner.invoke(cli, ["schema", "nosuch"])
    assert bad.exit_code == 1 and "the commands with --json are: query, similar" in bad.output


def test_help_points_at_docs_that_ship_with_the_package():
    from click.testing import CliRunner

    for name in COMMANDS:
        text = CliRunner().invoke(cli, [name, "--help"]).output
        assert "docs/" not in text, f"`clapsearch {name} --help` points at docs a pip install lacks"


def test_guide_links_the_other_pages():
    guide = (DOCS / "guide.md").read_text()
    for page in ("troubleshooting.md", "architecture.md", "serve.md"):
        assert (DOCS / page).exists() and f"({page})" in guide
    assert "(../clapsearch/docs/json.md)" in guide and SCHEMAS.exists()


def test_ci_runs_the_readme_s_test_command():
    readme = (REPO / "README.md").read_text()
    command = re.search(r"this is what CI runs\):\n\n```\n(.*)\n```", readme).group(1)
    assert "[test,ray]" in command  # the Ray engine's tests need its extra
    ci = (REPO / ".ci" / "run").read_text()
    assert command.replace("pip install ", "pip install -q ") in ci
