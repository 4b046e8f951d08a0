"""Reading the project's Markdown as data, for the tests that keep README.md and docs/ honest.

Fenced code blocks (with their language, section and the blocks after them), tables marked by an
HTML comment (``<!-- fields: TranchesDeal -->``), links, and the ``roundtrip`` commands shown,
which are parsed (not run) by the typer app so that a verb or option that does not exist fails.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import typer

from ledger.cli import app

_FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\n", re.M | re.S)
_HEADING = re.compile(r"^(#+) (.*)$", re.M)
_MARKER = re.compile(r"^<!-- (\w+): (\S+) -->\n((?:\|.*\|\n)+)", re.M)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_ENV = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+")  # COLUMNS=80 roundtrip ...


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, text, the heading above it and its first line."""

    lang: str
    text: str
    section: str
    line: int


def blocks(text: str) -> list[Block]:
    """Every fenced code block of a Markdown text, in order."""
    found = []
    for match in _FENCE.finditer(text):
        headings = _HEADING.findall(text[: match.start()])
        section = headings[-1][1] if headings else ""
        found.append(Block(match[1], match[2], section, text.count("\n", 0, match.start()) + 2))
    return found


def with_followers(text: str, lang: str) -> list[tuple[Block, Block | None]]:
    """Each block of ``lang`` with the next block when it is in the same section (or None)."""
    found = blocks(text)
    pairs = []
    for i, block in enumerate(found):
        if block.lang != lang:
            continue
        after = found[i + 1] if i + 1 < len(found) else None
        if after is not None and (after.section != block.section or after.lang == lang):
            after = None
        pairs.append((block, after))
    return pairs


def marked_tables(text: str) -> list[tuple[str, str, list[list[str]]]]:
    """``(marker, name, rows)`` of every table right under ``<!-- marker: name -->``.

    Rows are lists of cells, without the header and the ``|---|`` line.
    """
    tables = []
    for match in _MARKER.finditer(text):
        lines = match[3].splitlines()[2:]
        rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
        tables.append((match[1], match[2], rows))
    return tables


def code_names(cell: str) -> list[str]:
    """The ``code`` spans of a table cell (``"`sale`, `cloud`"`` -> ``["sale", "cloud"]``)."""
    return re.findall(r"`([^`]+)`", cell)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def broken_links(path: Path) -> list[str]:
    """Relative links of a Markdown file whose file, or heading anchor, does not exist."""
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked here
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            anchors = {slug(h) for _, h in _HEADING.findall(linked.read_text(encoding="utf-8"))}
            if anchor not in anchors:
                broken.append(target)
    return broken


def roundtrip_commands(text: str) -> list[str]:
    """Every ``roundtrip ...`` command of a text's code blocks (``$`` lines, or ``&&`` parts).

    Variables set before the command (``COLUMNS=80 roundtrip ...``) are left out.
    """
    commands = []
    for block in blocks(text):
        for line in block.text.splitlines():
            if not line.startswith("$ "):
                continue
            for part in re.split(r"&&|\|\||;|\|", line[2:]):
                command = _ENV.sub("", part.strip().strip("()").strip())
                words = command.split()
                if words and Path(words[0]).name == "roundtrip":
                    commands.append(command)
    return commands


def parse_problem(command: str) -> str | None:
    """Why the typer app would refuse ``command``'s verb or options, or None when it parses.

    The arguments are parsed exactly as ``roundtrip`` would (types included), but the command
    is not run.
    """
    words = shlex.split(command)
    redirect = next((i for i, w in enumerate(words) if re.match(r"\d?[<>]", w)), len(words))
    words = words[:redirect]
    group = typer.main.get_command(app)
    try:
        with group.make_context("roundtrip", words[1:], resilient_parsing=False) as ctx:
            # click keeps the subcommand's words apart (protected_args; _protected_args in 8.2)
            protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", [])
            name, sub, rest = group.resolve_command(ctx, [*protected, *ctx.args])
            with sub.make_context(name, rest, parent=ctx):
                return None
    except Exception as error:  # click's usage errors, whatever typer vendors them as
        return f"{type(error).__name__}: {error}"
