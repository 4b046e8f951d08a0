"""The README's bean-query, bean-check, hledger and ledger outputs are what those tools print.

``test_readme`` runs the README's ``roundtrip`` commands; the plain-text-accounting tools'
commands (``bean-query``, ``bean-check``, ``hledger``, ``ledger``) in its ```console blocks
are run here, through a shell from the repository's root, on what the README's prose says
they read: ``/tmp/netted/`` is ``roundtrip net books/ --period 2025 --eliminations``,
``/tmp/onesided/`` a copy of ``books/`` with CoreWeave's side of ``nv-cw-equity`` deleted,
``/tmp/journals/`` ``roundtrip book books/deals.yaml --format ledger`` (each made in a
temporary folder that stands for ``/tmp/``). What a tool prints on stdout and stderr is
compared line by line, trailing spaces ignored; the README may show the first lines only
(``bean-check`` prints the whole transaction under each error). The one command not run is
the "Nvidia before" query, whose book is ``main`` before the books were reworked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
_BLOCK = re.compile(r"^```console\n(.*?)^```\n", re.M | re.S)
TOOLS = ("bean-query", "bean-check", "hledger", "ledger")
#: The "before" command: its book is the one-file book of main before the rework.
BEFORE = 'bean-query nvidia.beancount "'


def _commands() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for block in _BLOCK.findall(README):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append((line[2:], []))
            elif found:
                found[-1][1].append(line.rstrip())
    return [(c, out) for c, out in found if c.split()[0] in TOOLS]


COMMANDS = [(c, out) for c, out in _commands() if not c.startswith(BEFORE)]


def test_the_readme_shows_each_tool_and_only_the_before_query_is_left_out():
    assert {c.split()[0] for c, _ in COMMANDS} == set(TOOLS)
    assert [c for c, _ in _commands() if c.startswith(BEFORE)] != []
    assert len(COMMANDS) == len(_commands()) - 1


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``/tmp/`` holds when the README's commands run."""
    root = tmp_path_factory.mktemp("readme-tmp")
    runner = CliRunner()
    for args in (
        ["net", "books/", "--period", "2025", "--eliminations", f"{root}/netted/"],
        ["book", "books/deals.yaml", "--format", "ledger", "--out", f"{root}/journals/"],
    ):
        cwd = Path.cwd()
        os.chdir(REPO)
        try:
            result = runner.invoke(app, args, catch_exceptions=False)
        finally:
            os.chdir(cwd)
        assert result.exit_code == 0, result.output
    onesided = root / "onesided"
    shutil.copytree(REPO / "books", onesided)
    book = onesided / "coreweave.beancount"
    blocks = book.read_text(encoding="utf-8").split("\n\n")
    kept = [b for b in blocks if not ("^deal-nv-cw-equity" in b and "\n  leg: 1\n" in b)]
    assert len(kept) == len(blocks) - 1
    book.write_text("\n\n".join(kept), encoding="utf-8")
    return root


def _needs(command: str) -> None:
    tool = command.split()[0]
    if shutil.which(tool) is None and not (Path(sys.executable).parent / tool).exists():
        pytest.skip(f"{tool} is not installed (.ci/run installs it)")


@pytest.mark.parametrize(("command", "output"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_the_readme_output_is_what_the_tool_prints(command, output, tmp):
    _needs(command)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        command.replace("/tmp/", f"{tmp}/"),
        shell=True,  # noqa: S602 - the README's own command line
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    printed = [
        line.rstrip().replace(f"{tmp}/", "/tmp/") for line in (run.stdout + run.stderr).splitlines()
    ]
    assert output, command
    assert printed[: len(output)] == output
