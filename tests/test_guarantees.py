"""The README's guarantees table names tests that exist: each promise points at its proof."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
NAMED = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", SECTION)


def _tests_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_row_of_the_guarantees_table_names_a_test() -> None:
    table = SECTION.split("\n| ", 1)[1].split("\n\n", 1)[0]  # the first table: guarantees
    rows = ["| " + line if i == 0 else line for i, line in enumerate(table.splitlines())]
    rows = [line for line in rows if "---" not in line]
    assert len(rows) >= 6  # the header and the guarantees
    assert all("tests/" in row for row in rows[1:])


def test_every_test_the_guarantees_table_names_exists() -> None:
    missing = [f"{f}::{n}" for f, n in NAMED if n not in _tests_of(REPO / f)]
    assert NAMED and missing == []
