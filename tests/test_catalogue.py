"""A catalogue of bad inputs, bad paths and environment problems, driven through every verb.

Each case is what a new user might feed roundtrip. For every one the command must exit 2 (bad
input) or 1 (environment or usage), say what is wrong in the first line of stderr — naming the
file, the line and the deal where there is one — print no traceback, and leave every path in
its folder exactly as it was (no output, no staging folder, no store file). Inputs that are
good but unusual (a byte-order mark, CRLF line ends) must give what the plain file gives.

The store's own failures (bad URLs, a ``--db`` that is a folder, concurrent loads) are issue
13's store work and tested with the store; a refused input never reaches the store, and the
catalogue checks that no store file is created.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from clirun import assert_clean_refusal, run, run_process, tree

FIXTURES = Path(__file__).parent / "fixtures"
TRIANGLE = (FIXTURES / "examples" / "triangle.csv").read_text(encoding="utf-8")
HEADER = TRIANGLE.splitlines()[0]
SMALL_DEALS = (FIXTURES / "deals" / "small.yaml").read_text(encoding="utf-8")
OPENAI_BOOK = Path(__file__).parent.parent / "books" / "openai.beancount"

BAD_INPUT, ENVIRONMENT = 2, 1


def _row(date: str, deal: str, payer: str, payee: str, amount: str = "1.00") -> str:
    return f"{date},{deal},{payer},{payee},sale,{amount},USD,realized\n"


def _too_much_in_total() -> str:
    """1,001 legs of the largest amount: each leg is allowed, their sum is not."""
    rows = [_row("2025-01-01", f"d{i}", "A", "B", "9999999999999.99") for i in range(1001)]
    return HEADER + "\n" + "".join(rows)


def _alias_bomb() -> str:
    """YAML aliases nine deep, nine wide: 9**9 strings if anything expanded them ("billion
    laughs")."""
    lines = ['x0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def _deals(old: str, new: str) -> str:
    assert old in SMALL_DEALS
    return SMALL_DEALS.replace(old, new, 1)


@dataclass(frozen=True)
class Bad:
    """One bad input: its file name and bytes, and the start of the message every verb gives."""

    name: str
    content: str | bytes
    message: str


#: Bad inputs every verb that reads an input refuses alike (exit 2, the same first line).
INPUTS: dict[str, Bad] = {
    "amount 1e30": Bad(
        "big.csv",
        TRIANGLE.replace("100.00", "1e30"),
        "big.csv:2: amount '1e30' is not a number (write e.g. 1234.50) [deal nv-oai-equity]",
    ),
    "amount 99999999999999999.99": Bad(
        "huge.csv",
        TRIANGLE.replace("100.00", "99999999999999999.99"),
        "huge.csv:2: amount 99999999999999999.99 is above the largest amount of one leg",
    ),
    "legs adding up past the total limit": Bad(
        "total.csv", _too_much_in_total(), "total.csv:1002: the legs up to here add up to more"
    ),
    "amount with three decimals": Bad(
        "cents.csv", TRIANGLE.replace("100.00", "100.001"), "cents.csv:2: amount"
    ),
    "negative amount": Bad(
        "neg.csv", TRIANGLE.replace("100.00", "-100.00"), "neg.csv:2: amount must be > 0"
    ),
    "amount NaN": Bad("nan.csv", TRIANGLE.replace("100.00", "NaN"), "nan.csv:2: amount 'NaN'"),
    "names differing by case": Bad(
        "case.csv",
        TRIANGLE.replace("OpenAI,Oracle", "Openai,Oracle"),
        "case.csv:3: companies 'OpenAI' (line 2) and 'Openai' would share the book file",
    ),
    "names differing by punctuation": Bad(
        "punct.csv",
        TRIANGLE.replace("Nvidia,OpenAI", "Nvidia,Open AI").replace(
            "OpenAI,Oracle", "Open.AI,Oracle"
        ),
        "punct.csv:3: companies 'Open AI' (line 2) and 'Open.AI' would share the book file",
    ),
    "EXTERNAL beside External": Bad(
        "ext.csv",
        TRIANGLE + _row("2025-10-03", "x", "EXTERNAL", "Nvidia"),
        "ext.csv:6: company 'EXTERNAL' would share the book file and account names of External",
    ),
    "name over 120 characters": Bad(
        "long.csv", TRIANGLE.replace("Oracle", "O" * 200), "long.csv:3: payee name"
    ),
    "header-only CSV": Bad("header.csv", HEADER + "\n", "header.csv:1: no legs"),
    "empty CSV": Bad("empty.csv", "", "empty.csv:1: empty file"),
    "non-UTF-8 CSV": Bad(
        "latin.csv", TRIANGLE.replace("Oracle", "Oracl\xe9").encode("latin-1"), "latin.csv"
    ),
    "UTF-16 CSV": Bad("utf16.csv", TRIANGLE.encode("utf-16"), "utf16.csv"),
    "random bytes as CSV": Bad("noise.csv", bytes(range(256)) * 4, "noise.csv"),
    "date past 2199": Bad(
        "late.csv",
        TRIANGLE.replace("2025-09-22", "2300-01-01"),
        "late.csv:2: date 2300-01-01 is outside 1900-01-01..2199-12-31",
    ),
    "date before 1900": Bad(
        "early.csv", TRIANGLE.replace("2025-09-22", "0001-01-01"), "early.csv:2: date 0001-01-01"
    ),
    "impossible date": Bad(
        "feb30.csv", TRIANGLE.replace("2025-09-22", "2025-02-30"), "feb30.csv:2:"
    ),
    "missing column": Bad(
        "cols.csv", TRIANGLE.replace(",status", "").replace(",realized", ""), "cols.csv:1:"
    ),
    "unknown kind": Bad(
        "kind.csv", TRIANGLE.replace(",equity,", ",gift,"), "kind.csv:2: unknown kind"
    ),
    "mixed currencies": Bad(
        "eur.csv", TRIANGLE.replace("300.00,USD", "300.00,EUR"), "eur.csv:3: mixed currencies"
    ),
    "duplicate row": Bad(
        "dup.csv", TRIANGLE + TRIANGLE.splitlines()[1] + "\n", "dup.csv:6: duplicate"
    ),
    "unterminated quote": Bad(
        "quote.csv", TRIANGLE.replace("OpenAI,Oracle", '"OpenAI,Oracle'), "quote.csv"
    ),
    "deals: count too big": Bad(
        "count.yaml",
        _deals("count: 4", "count: 1000000000"),
        "count.yaml:27: count: 1,000,000,000 legs: more than one deal may make",
    ),
    "deals: schedule past 2199": Bad(
        "years.yaml",
        _deals("years: 1", "years: 400"),
        "years.yaml:44: 1,600 legs 3 months apart from 2025-10-01 run to 2425-07, past the last",
    ),
    "deals: date past 2199": Bad(
        "date.yaml", _deals("date: 2025-10-01", "date: 2250-10-01"), "date.yaml:34: date:"
    ),
    "deals: unknown template": Bad(
        "tpl.yaml",
        _deals("template: single", "template: nosuch"),
        "tpl.yaml:37: unknown template 'nosuch'",
    ),
    "deals: unquoted float amount": Bad(
        "float.yaml", _deals("amount: 50M", "amount: 99999999999999999.99"), "float.yaml:41:"
    ),
    "deals: duplicate deal id": Bad(
        "dupid.yaml",
        _deals("id: oai-nv-chips", "id: nv-oai-equity"),
        "dupid.yaml:32: duplicate deal id 'nv-oai-equity' (first on line 18)",
    ),
    "deals: colliding companies": Bad(
        "collide.yaml",
        _deals("  - name: Oracle\n", "  - name: Oracle\n  - name: oracle\n"),
        "collide.yaml:11: companies 'Oracle' and 'oracle'",
    ),
    "deals: malformed YAML": Bad("broken.yaml", "deals: [\n", "broken.yaml:2: malformed YAML"),
    "deals: empty file": Bad("nothing.yaml", "", "nothing.yaml:1: empty deals file"),
    "deals: a list, not a mapping": Bad("list.yaml", "- 1\n- 2\n", "list.yaml:1:"),
    "a leg number past int64": Bad(
        "legno.csv",
        TRIANGLE.replace("date,deal,", "date,deal,leg,")
        .replace("2025-09-22,nv-oai-equity,", "2025-09-22,nv-oai-equity,99999999999999999999999,")
        .replace(",oai-", ",1,oai-")
        .replace(",orcl-", ",1,orcl-"),
        "legno.csv:2: bad leg number",
    ),
    "a NUL byte in a name": Bad(
        "nul.csv", TRIANGLE.replace("OpenAI,Oracle", "OpenAI,Ora\0cle"), "nul.csv:3: payee name"
    ),
    "a line break in a quoted name": Bad(
        "break.csv",
        TRIANGLE.replace("OpenAI,Oracle", 'OpenAI,"Ora\ncle"'),
        "break.csv:3: payee name",
    ),
    "a 200,000-character name": Bad(
        "wide.csv", TRIANGLE.replace("Oracle", "O" * 200_000), "wide.csv:3: payee name"
    ),
    "a header of 20,000 unknown columns": Bad(
        "columns.csv",
        ",".join(f"c{i}" for i in range(20_000)) + "\n",
        "columns.csv:1: missing column(s)",
    ),
    "deals: YAML nested 5,000 deep": Bad(
        "deep.yaml",
        "version: 1\ncompanies: [A, B]\ndeals: " + "[" * 5000 + "]" * 5000 + "\n",
        "deep.yaml:3: malformed YAML",
    ),
    "deals: an alias bomb": Bad(
        "bomb.yaml",
        _deals("    amount: 50M\n", "    amount: 50M\n    note: *a8\n").replace(
            "deals:\n", _alias_bomb() + "deals:\n", 1
        ),
        "bomb.yaml:",
    ),
    "unknown file type": Bad("legs.txt", TRIANGLE, "legs.txt: not a deals file"),
    "random bytes as Parquet": Bad("noise.parquet", b"PAR1" + bytes(300), "noise.parquet"),
}


@dataclass(frozen=True)
class Books:
    """A bad folder of books: file name -> text."""

    files: dict[str, str]
    message: str


BOOKS: dict[str, Books] = {
    "malformed beancount": Books(
        {"a.beancount": 'option "title" "A"\n2025-01-01 open Assets:Cash\nthis is not beancount\n'},
        "a.beancount:3:",
    ),
    "a book that names no company": Books(
        {"a.beancount": "2025-01-01 open Assets:Cash\n"},
        'a.beancount: the book names no company: add option "title"',
    ),
    "a one-sided leg": Books(
        {"openai.beancount": OPENAI_BOOK.read_text(encoding="utf-8")},
        "openai.beancount:",
    ),
    "an include of a missing file": Books(
        {"a.beancount": 'option "title" "A"\ninclude "missing.beancount"\n'},
        'File glob "missing.beancount" does not match any files',
    ),
    "a custom directive without values": Books(
        {"a.beancount": 'option "title" "A"\n2025-01-01 custom "fava-option"\n'},
        'a.beancount: Error applying plugin "beancount.ops.pad": TypeError:',
    ),
    "a folder with no books": Books({"notes.txt": "hello\n"}, "no *.beancount books"),
}


def _verbs(source: Path) -> dict[str, list[str | Path]]:
    """Every verb that reads an input, each told to write where the snapshot can see it."""
    return {
        "check": ["check", source],
        "book": ["book", source, "--out", "out-books"],
        "net": ["net", source, "-f", "json", "--out", "net.json"],
        "net --eliminations": ["net", source, "--eliminations", "elims"],
        "audit": ["audit", source, "-f", "md", "--out", "audit.md"],
        "audit --all": ["audit", source, "--all", "-f", "json", "--out", "rank.json"],
        "show": ["show", source, "legs", "-f", "csv", "--out", "legs.csv.out"],
        "load": ["load", source, "--db", "sqlite:///store.db"],
    }


VERBS = list(_verbs(Path("x")))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, the current directory of the command."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROUNDTRIP_PROGRESS", "0")
    return tmp_path


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("case", list(INPUTS))
def test_every_verb_refuses_a_bad_input_alike(workspace: Path, case: str, verb: str) -> None:
    bad = INPUTS[case]
    source = workspace / bad.name
    if isinstance(bad.content, bytes):
        source.write_bytes(bad.content)
    else:
        source.write_text(bad.content, encoding="utf-8")
    before = tree(workspace)
    outcome = run(*_verbs(source)[verb])
    assert_clean_refusal(outcome, BAD_INPUT, bad.message)
    assert tree(workspace) == before


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("case", list(BOOKS))
def test_every_verb_refuses_bad_books_alike(workspace: Path, case: str, verb: str) -> None:
    folder = workspace / "books"
    folder.mkdir()
    for name, text in BOOKS[case].files.items():
        (folder / name).write_text(text, encoding="utf-8")
    before = tree(workspace)
    outcome = run(*_verbs(folder)[verb])
    assert_clean_refusal(outcome, BAD_INPUT, BOOKS[case].message)
    assert tree(workspace) == before


@pytest.mark.parametrize("verb", ["check", "net", "show", "load"])
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda text: b"\xef\xbb\xbf" + text.encode(), id="byte-order mark"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode(), id="CRLF"),
    ],
)
def test_a_bom_or_crlf_gives_what_the_plain_file_gives(
    workspace: Path, variant: Callable[[str], bytes], verb: str
) -> None:
    (workspace / "a").mkdir()
    (workspace / "b").mkdir()
    plain, odd = workspace / "a" / "legs.csv", workspace / "b" / "legs.csv"
    plain.write_text(TRIANGLE, encoding="utf-8")
    odd.write_bytes(variant(TRIANGLE))
    args = {"check": [], "net": ["-f", "json"], "show": ["legs", "-f", "json"], "load": []}[verb]
    first = run(verb, plain, *args, *(["--db", "sqlite:///a.db"] if verb == "load" else []))
    second = run(verb, odd, *args, *(["--db", "sqlite:///b.db"] if verb == "load" else []))
    assert first.code == second.code == 0, (first, second)
    assert second.out.replace("b/legs.csv", "a/legs.csv").replace("b.db", "a.db") == first.out


# -- paths and the environment -----------------------------------------------------------------


@dataclass(frozen=True)
class Env:
    """A bad path or environment: set-up, the command, the exit code and message."""

    args: list[str]
    code: int
    message: str
    setup: Callable[[Path], None] = field(default=lambda folder: None)


def _file(name: str, text: str = "x\n") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")

    return make


def _folder(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).mkdir(parents=True)


def _books(name: str = "books") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        shutil.copytree(FIXTURES / "examples", folder / "examples")
        run("book", folder / "examples" / "triangle.csv", "--out", folder / name)

    return make


T = "triangle.csv"

ENVIRONMENTS: dict[str, Env] = {
    "--out in a missing folder": Env(
        ["net", T, "-f", "json", "--out", "nowhere/net.json"],
        ENVIRONMENT,
        "nowhere/net.json: cannot write: No such file or directory",
    ),
    "--out naming a folder": Env(
        ["show", T, "-f", "md", "--out", "here"],
        ENVIRONMENT,
        "here: cannot write: Is a directory",
        _folder("here"),
    ),
    "--out under a file": Env(
        ["audit", T, "-f", "json", "--out", "notes.txt/a.json"],
        ENVIRONMENT,
        "notes.txt/a.json: cannot write: Not a directory",
        _file("notes.txt"),
    ),
    "book --out naming an existing file": Env(
        ["book", T, "--out", "notes.txt"],
        ENVIRONMENT,
        "notes.txt: cannot write: File exists",
        _file("notes.txt"),
    ),
    "net --eliminations naming an existing file": Env(
        ["net", T, "--eliminations", "notes.txt"],
        ENVIRONMENT,
        "notes.txt: cannot write: File exists",
        _file("notes.txt"),
    ),
    "net --eliminations into the books read": Env(
        ["net", "books", "--eliminations", "books"], BAD_INPUT, "books:", _books()
    ),
    "net --eliminations into a books folder": Env(
        ["net", T, "--eliminations", "books"], BAD_INPUT, "books: holds the books", _books()
    ),
    "net --eliminations naming a book file": Env(
        ["net", T, "--eliminations", "x.beancount"], ENVIRONMENT, "--eliminations takes a folder"
    ),
    "book --out the books folder it reads": Env(
        ["book", "books", "--out", "books"], BAD_INPUT, "books", _books()
    ),
    "report --out naming an existing file": Env(
        ["report", "--books", "books", "--out", "notes.txt"],
        ENVIRONMENT,
        "notes.txt: cannot write: File exists",
        lambda folder: (_books()(folder), _file("notes.txt")(folder)),
    ),
    "report --out the books folder": Env(
        ["report", "--books", "books", "--out", "books"], BAD_INPUT, "books", _books()
    ),
    "report from a missing folder": Env(
        ["report", "--books", "missing", "--out", "reports"], BAD_INPUT, "missing"
    ),
    "report from bad books": Env(
        ["report", "--books", "books", "--out", "reports"],
        BAD_INPUT,
        "books has problems",
        _file("books/a.beancount", "garbage\n"),
    ),
    "simulate --out naming a folder": Env(
        ["simulate", "--companies", "5", "--legs", "10", "--out", "here"],
        ENVIRONMENT,
        "here: cannot write: Is a directory",
        _folder("here"),
    ),
    "simulate --out in a missing folder (Parquet)": Env(
        ["simulate", "--companies", "5", "--legs", "10", "--out", "nowhere/web.parquet"],
        ENVIRONMENT,
        "nowhere/web.parquet: cannot write",
    ),
    "simulate with one company": Env(
        ["simulate", "--companies", "1", "--legs", "10"], ENVIRONMENT, "at least two companies"
    ),
    "a folder where a CSV is expected": Env(
        ["net", "legs.csv"],
        BAD_INPUT,
        "legs.csv: no Parquet files in this folder",
        _folder("legs.csv"),
    ),
    "a folder where a deals file is expected": Env(
        ["check", "deals.yaml"],
        BAD_INPUT,
        "deals.yaml: no *.beancount books",
        _folder("deals.yaml"),
    ),
    "a path that does not exist": Env(["show", "nothing.csv"], BAD_INPUT, "nothing.csv: no such"),
    "a period that is not one": Env(
        ["net", T, "--period", "2025Q9"], ENVIRONMENT, "not a period: '2025Q9'"
    ),
    "a --from that is not a date": Env(
        ["net", T, "--from", "2025-13-01"], ENVIRONMENT, "month must be in 1..12"
    ),
    "--cycles that is not a number": Env(
        ["net", T, "--cycles", "many"], ENVIRONMENT, "--cycles takes a number"
    ),
    "--fail naming an unknown company": Env(
        ["audit", T, "--fail", "Nobody"], ENVIRONMENT, "unknown company 'Nobody'"
    ),
    "--cut over 100": Env(
        ["audit", T, "--fail", "OpenAI", "--cut", "150"], ENVIRONMENT, "--cut is a percentage"
    ),
    "show of an unknown list": Env(
        ["show", T, "everything"], ENVIRONMENT, "'everything' is not one of"
    ),
}


@pytest.mark.parametrize("case", list(ENVIRONMENTS))
def test_a_bad_path_or_environment_is_one_clean_line(workspace: Path, case: str) -> None:
    env = ENVIRONMENTS[case]
    (workspace / T).write_text(TRIANGLE, encoding="utf-8")
    env.setup(workspace)
    before = tree(workspace)
    outcome = run(*env.args)
    assert_clean_refusal(outcome, env.code, env.message)
    assert tree(workspace) == before


def test_html_without_graphviz_is_one_clean_line(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / T).write_text(TRIANGLE, encoding="utf-8")
    monkeypatch.setenv("PATH", str(workspace))  # no dot on it
    before = tree(workspace)
    outcome = run("net", T, "-f", "html", "--out", "net.html")
    assert_clean_refusal(outcome, ENVIRONMENT, "dot: Graphviz is not installed")
    assert tree(workspace) == before


# -- permissions (a subprocess; as `nobody` when the tests run as root) --------------------------


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder `nobody` can enter (pytest's own base folder is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="roundtrip-catalogue-"))
    folder.chmod(0o777)
    (folder / T).write_text(TRIANGLE, encoding="utf-8")
    (folder / "small.yaml").write_text(SMALL_DEALS, encoding="utf-8")
    shutil.copytree(FIXTURES / "examples", folder / "examples")
    run("book", folder / "examples" / "triangle.csv", "--out", folder / "books")
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o777)
    shutil.rmtree(folder)


def _open_to_others(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)


UNREADABLE = {
    "an unreadable CSV": (T, ["net", T], f"path '{T}' is not readable"),
    "an unreadable deals file": ("small.yaml", ["check", "small.yaml"], "is not readable"),
    "an unreadable book": (
        "books/openai.beancount",
        ["net", "books"],
        "books/openai.beancount: cannot read: Permission denied",
    ),
    "an unreadable books folder": ("books", ["check", "books"], "is not readable"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_an_unreadable_input_is_one_clean_line(shared: Path, case: str) -> None:
    name, args, message = UNREADABLE[case]
    _open_to_others(shared)
    (shared / name).chmod(0o000)
    before = tree(shared)
    outcome = run_process(*args, cwd=shared, unprivileged=True)
    assert_clean_refusal(outcome, ENVIRONMENT, message)
    assert tree(shared) == before


READ_ONLY = {
    "book into a read-only folder": ["book", T, "--out", "locked"],
    "book into a new folder of a read-only folder": ["book", T, "--out", "locked/new"],
    "net --out into a read-only folder": ["net", T, "-f", "json", "--out", "locked/net.json"],
    "net --eliminations into a read-only folder": ["net", T, "--eliminations", "locked"],
    "report into a read-only folder": ["report", "--books", "books", "--out", "locked"],
    "simulate into a read-only folder": [
        "simulate",
        "--companies",
        "5",
        "--legs",
        "10",
        "--out",
        "locked/web.csv",
    ],
}


@pytest.mark.parametrize("case", list(READ_ONLY))
def test_a_read_only_target_is_one_clean_line(shared: Path, case: str) -> None:
    _open_to_others(shared)
    (shared / "locked").mkdir()
    (shared / "locked" / "mine.txt").write_text("keep me\n", encoding="utf-8")
    (shared / "locked").chmod(0o555)
    before = tree(shared)
    outcome = run_process(*READ_ONLY[case], cwd=shared, unprivileged=True)
    assert_clean_refusal(outcome, ENVIRONMENT, "cannot write: Permission denied")
    assert tree(shared) == before
