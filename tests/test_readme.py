"""The README shows real output: every ``roundtrip`` command in a ```console block is run here.

A console block holds ``$ command`` lines (a command may start with ``NAME=value`` settings,
such as ``COLUMNS=80`` for the width of the terminal), each followed by the output it prints. For the
commands that are (or end in) ``roundtrip ...``, this test runs the command and compares what it
prints on stdout with the lines below it, trailing spaces ignored. Lines about what was saved to
a database are stderr and are left out of the comparison. Commands that are not ``roundtrip``
(``pytest``, ``cat``, ``bean-query``) are not run here: ``test_readme_tools`` runs the
``bean-query``, ``bean-check``, ``hledger`` and ``ledger`` ones, ``test_fava`` the ``curl`` ones.

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
#: What the commands print on stderr (what was saved or written), left out of the comparison;
#: ``book``'s "wrote the books of ..." is its stdout.
_STDERR = re.compile(r"saved netting run|wrote \d+ elimination files")


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
    return [line.rstrip() for line in output if not _STDERR.match(line)]


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
            elif not skipping or _STDERR.match(line):
                # stderr lines (what was saved or written) are kept as they are, in place
                out.insert(len(out) if not skipping else _after_command(out), line)
        return "```console\n" + "\n".join(out) + "\n```\n"

    README.write_text(_BLOCK.sub(block, text), encoding="utf-8")


if __name__ == "__main__" and "--write" in sys.argv:
    import os

    os.chdir(REPO)
    _rewrite()


# -- the README as a newcomer copies it ---------------------------------------------------------

README_TEXT = README.read_text(encoding="utf-8")
_QUICK_START = README_TEXT.split("## Quick start", 1)[1].split("\n## ", 1)[0]
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def test_every_roundtrip_command_in_a_readme_code_block_names_a_verb_and_options_that_exist():
    import mdcheck

    commands = mdcheck.roundtrip_commands(README_TEXT)
    assert len(commands) >= 6
    assert {c: mdcheck.parse_problem(c) for c in commands} == dict.fromkeys(commands)


def test_every_verb_and_option_of_the_command_table_exists():
    import typer

    group = typer.main.get_command(app)
    spans = [s for s in _INLINE.findall(README_TEXT) if s.startswith("roundtrip ")]
    assert len(spans) >= 8
    for span in spans:
        verb = span.split()[1]
        command = group if verb.startswith("-") else group.commands.get(verb)
        assert command is not None, span
        options = {o for p in command.params for o in p.opts}
        assert set(re.findall(r"--[a-z-]+", span)) <= options, span


def test_the_quick_start_activates_the_venv_so_every_later_command_is_bare():
    assert "$ python3 -m venv .venv && source .venv/bin/activate && pip install" in _QUICK_START
    after = README_TEXT.split(_QUICK_START, 1)[1]
    assert ".venv/bin/" not in after


def _path_words(text: str) -> set[str]:
    """Repository paths named in inline code (``books/deals.yaml``, ``books/*.beancount``)."""
    words = set()
    for span in _INLINE.findall(text):
        for word in span.split():
            if "/" in word and ":" not in word and "<" not in word and word[0] not in "/-":
                stem, _, rest = word.partition("{")
                if rest:  # books/examples/{dotcom,telecom}.yaml
                    choices, _, tail = rest.partition("}")
                    words |= {stem + choice + tail for choice in choices.split(",")}
                else:
                    words.add(word)
    return words


def test_every_file_the_readme_names_or_links_is_shipped():
    import mdcheck

    assert mdcheck.broken_links(README) == []
    named = _path_words(README_TEXT)
    assert {"books/deals.yaml", "tests/fixtures/examples/triangle.csv", ".ci/run"} <= named
    shipped = [w for w in sorted(named) if not w.startswith(".venv/")]  # the quick start makes it
    missing = [w for w in shipped if not any(REPO.glob(w.rstrip("/")))]
    assert missing == []


def test_the_readme_refers_to_no_section_of_an_unshipped_spec():
    assert "SPEC" not in README_TEXT and "§" not in README_TEXT


def test_the_readme_states_the_postgres_url_the_tests_connect_as():
    store_tests = (REPO / "tests" / "store_backends.py").read_text(encoding="utf-8")
    default = re.search(r'"ROUNDTRIP_TEST_PG_URL", "([^"]+)"', store_tests)[1]
    assert f"`ROUNDTRIP_TEST_PG_URL`, by default `{default}`" in README_TEXT.replace("\n", " ")
