"""The documented shapes of `--json` output, shipped with the package (clapsearch/docs/json.md)."""

from __future__ import annotations

import re
from importlib import resources

from .errors import ClapsearchError

_SECTION = re.compile(r"^## (.+)$", re.M)


def schema_text(command: str | None = None) -> str:
    """The whole schema document, or the section that documents `command`."""
    text = resources.files("clapsearch").joinpath("docs/json.md").read_text(encoding="utf-8")
    if command is None:
        return text.rstrip()
    sections = _sections(text)
    for names, body in sections:
        if command in names:
            return body.rstrip()
    known = ", ".join(name for names, _ in sections for name in names)
    raise ClapsearchError(f"No JSON schema for '{command}'; the commands with --json are: {known}.")


def _sections(text: str) -> list[tuple[list[str], str]]:
    """[(command names in the heading, the section's text)] for every '## `a`, `b`' heading."""
    starts = [m for m in _SECTION.finditer(text)]
    out = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        names = re.findall(r"`([a-z]+(?: [a-z]+)?)`", match.group(1))  # "query", "models pull"
        if names:
            out.append((names, text[match.start():end]))
    return out
