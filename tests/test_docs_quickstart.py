"""The quick start in docs/guide.md and the walk-through in examples/README.md run as written,
offline, with the bundled default model (each `clapsearch ...` line, in order, from a folder that
holds a copy of examples/)."""

from __future__ import annotations

import csv
import re
import shlex
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def commands_in(markdown: Path, section: str | None = None) -> list[list[str]]:
    """The `clapsearch` command lines of the fenced blocks (of one '## section'), comments dropped."""
    text = markdown.read_text()
    if section is not None:
        match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
        assert match, f"{markdown.name} has no '## {section}' section"
        text = match.group(1)
    lines = [line for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M) for line in block.splitlines()]
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith("clapsearch ")]


@pytest.fixture
def examples_copy(tmp_path, monkeypatch):
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("markdown, section", [("docs/guide.md", "Quick start"), ("examples/README.md", None)])
def test_documented_commands_run_offline(markdown, section, no_network, examples_copy):
    from click.testing import CliRunner

    from clapsearch.cli import cli

    commands = commands_in(REPO / markdown, section)
    assert len(commands) >= 5 and commands[0][:2] == ["index", "examples/"]
    runner = CliRunner()
    for args in commands:
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, f"clapsearch {shlex.join(args)}:\n{result.output}"
        if args[0] == "index":  # the bundled recordings are whole: no warning, no failure
            assert "warning:" not in result.output and "failed" not in result.output, result.output
    if any(args[0] == "label" for args in commands):
        assert (examples_copy / "labels.csv").read_text().startswith("path,rank,label,score\n")


@pytest.mark.slow
def test_the_walk_through_names_the_file_each_query_ranks_first(no_network, examples_copy):
    """Each `clapsearch query "..."  # FILE` line of examples/README.md: FILE is what the CLI ranks
    first, with the default (hybrid) ranking a user gets."""
    from click.testing import CliRunner

    from clapsearch.cli import cli

    documented = {}
    for line in (REPO / "examples" / "README.md").read_text().splitlines():
        match = re.match(r'^clapsearch query "([^"]+)"\s+# (\S+)$', line)
        if match:
            documented[match.group(1)] = match.group(2)
    assert len(documented) >= 7
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "examples/"], catch_exceptions=False).exit_code == 0
    firsts = {}
    for query in documented:
        out = examples_copy / "first.csv"
        result = runner.invoke(cli, ["query", query, "-k", "1", "--csv", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        with out.open(newline="") as rows:
            firsts[query] = Path(next(csv.DictReader(rows))["path"]).name
    assert firsts == documented


def test_the_model_card_reports_every_walk_through_query():
    from training.recipes.default.walkthrough import WALK_THROUGH

    card = (REPO / "clapsearch" / "assets" / "default" / "MODEL_CARD.md").read_text()
    for query in WALK_THROUGH:
        assert f"| {query} |" in card, f"the model card does not report the walk-through query {query!r}"
