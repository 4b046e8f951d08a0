"""The README shows real output: every ``roundtrip`` command in a ```console block is run here.

A console block holds ``$ command`` lines (a command may start with ``NAME=value`` settings,
such as ``COLUMNS=80`` for the width of the terminal), each followed by the output it prints. For the
commands that are (or end in) ``roundtrip ...``, this test runs the command and compares what it
prints on stdout with the lines below it, trailing spaces ignored. Lines about what was saved to
a database are stderr and are left out of the comparison. Commands that are not ``roundtrip``
(``pytest``, ``cat``, ``bean-query``) are not run here.

After a change that moves a figure, rewrite the outputs with::

    python tests/test_readme.py --write
"""

from __future__ import annotations

import re
import shlex
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app

REPO = Path(__file__).parent.parent
README = REPO / "README.md"
_BLOCK = re.compile(r"^```console\n(.*?)^```\n", re.M | re.S)
_STDERR = ("saved netting run", "wrote ")


def _commands(text: str) -> list[tuple[str, list[str]]]:
    """Each ``$ ...`` line of the console blocks, with the output lines under it."""
    found = []
    for block in _BLOCK.findall(text):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    found.append((command, output))
                command, output = line[2:], []
            else:
                output.append(line)
        if command is not None:
            found.append((command, output))
    return found


def _split(command: str) -> tuple[dict[str, str], list[str]]:
    """The leading ``NAME=value`` assignments (e.g. ``COLUMNS=80``) and the words after them."""
    words = shlex.split(command.split("&&")[-1].strip())
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return env, words


def _roundtrip_args(command: str) -> list[str] | None:
    """The arguments of the ``roundtrip`` command a line ends with, or None."""
    _, words = _split(command)
    if not words or Path(words[0]).name != "roundtrip":
        return None
    return words[1:]


def _run(args: list[str], db_dir: Path, env: dict[str, str] | None = None) -> list[str]:
    if "--save" in args:
        args = [*args, "--db", f"sqlite:///{db_dir / 'readme.db'}"]
    result = CliRunner().invoke(app, args, catch_exceptions=False, env=env)
    return [line.rstrip() for line in result.stdout.splitlines()]


def _expected(output: list[str]) -> list[str]:
    return [line.rstrip() for line in output if not line.startswith(_STDERR)]


CHECKED = [
    (command, output)
    for command, output in _commands(README.read_text(encoding="utf-8"))
    if _roundtrip_args(command) is not None
]


def test_readme_has_roundtrip_commands_to_check():
    assert len(CHECKED) >= 4


@pytest.mark.parametrize(("command", "output"), CHECKED, ids=[c for c, _ in CHECKED])
def test_readme_output_is_what_the_command_prints(command, output, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    assert _run(_roundtrip_args(command), tmp_path, _split(command)[0]) == _expected(output)


def _after_command(lines: list[str]) -> int:
    """The index just after the last ``$`` line (where a command's stderr lines go)."""
    return max(i for i, line in enumerate(lines) if line.startswith("$ ")) + 1


def _rewrite() -> None:
    """Replace the output under every roundtrip command of the README with a fresh run."""
    text = README.read_text(encoding="utf-8")

    def block(match: re.Match[str]) -> str:
        out: list[str] = []
        skipping = False
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                skipping = False
                out.append(line)
                args = _roundtrip_args(line[2:])
                if args is not None:
                    with tempfile.TemporaryDirectory() as tmp:
                        out.extend(_run(args, Path(tmp), _split(line[2:])[0]))
                    skipping = True
            elif not skipping or line.startswith(_STDERR):
                # stderr lines (what was saved or written) are kept as they are, in place
                out.insert(len(out) if not skipping else _after_command(out), line)
        return "```console\n" + "\n".join(out) + "\n```\n"

    README.write_text(_BLOCK.sub(block, text), encoding="utf-8")


if __name__ == "__main__" and "--write" in sys.argv:
    import os

    os.chdir(REPO)
    _rewrite()
