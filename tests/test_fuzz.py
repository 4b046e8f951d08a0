"""Fuzzing every reader: mutated legs CSVs, Parquet tables, deals files and beancount books.

Each input starts from a valid one and is mutated as files get damaged or hand-edited:
truncated, bytes flipped or inserted, lines dropped, duplicated or swapped, a field replaced
by a huge, tiny, negative or foreign number or by arbitrary text, the whole re-encoded. The
invariant for every reader: a clean refusal (problems as ``file:line: message`` records naming
the file read, exit 2 through the CLI, nothing written) or a correct result (every leg within
the limits of ``ledger/limits.py``, and a netting that runs and adds up) — never an exception,
never a partial write.

Short in CI; ``HYPOTHESIS_PROFILE=long`` runs the campaign stated in the README (profiles in
``tests/conftest.py``).
"""

from __future__ import annotations

import io
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from clirun import run, tree
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ledger.inputs import Web, read_web
from ledger.limits import MAX_DATE, MAX_LEG_AMOUNT, MIN_DATE
from ledger.model import Basis, LedgerError, Period

FIXTURES = Path(__file__).parent / "fixtures"
CSVS = sorted((FIXTURES / "examples").glob("*.csv"))
SMALL_DEALS = FIXTURES / "deals" / "small.yaml"

FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
#: The CLI examples cost a whole command each (bean-check for ``book``): fewer of them.
FUZZ_CLI = settings(FUZZ, max_examples=max(FUZZ.max_examples // 4, 5))

#: Numbers and near-numbers that readers get wrong: overflow, underflow, exponents, signs,
#: digits from other scripts, separators, and values at the limits.
ODD_NUMBERS = [
    "1e30",
    "99999999999999999.99",
    "9999999999999.99",
    "10000000000000.00",
    "0.001",
    "0.00",
    "-0",
    "-1.00",
    "1e-30",
    "NaN",
    "inf",
    "-Infinity",
    "1_000",
    "1,000.00",
    "１００",
    "٣",
    "0x10",
    " 5 ",
    "5.",
    ".5",
    "+5",
    "1" * 40,
    "",
]
ODD_TEXT = ["External", "EXTERNAL", "openai", "Open.AI", "", " ", "\t", "'", '"', "é", "\x00"]
ODD_DATES = ["2199-12-31", "2200-01-01", "1899-12-31", "0001-01-01", "9999-12-31", "2025-02-29"]

fields = st.one_of(
    st.sampled_from(ODD_NUMBERS + ODD_TEXT + ODD_DATES),
    st.text(max_size=12),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


# -- mutations ---------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, text: str, separator: str = ",") -> bytes:
    """``text`` after one to four damages (see the module docstring), as bytes."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["field", "field", "drop", "duplicate", "swap", "line", "cut"]))
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        if op == "field":
            cells = lines[at].rstrip("\r\n").split(separator)
            cell = draw(st.integers(0, len(cells) - 1))
            cells[cell] = draw(fields)
            lines[at] = separator.join(cells) + "\n"
        elif op == "drop":
            del lines[at]
        elif op == "duplicate":
            lines.insert(draw(st.integers(0, len(lines))), lines[at])
        elif op == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == "line":
            lines[at] = draw(st.text(max_size=60)) + "\n"
        else:
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))]
    data = "".join(lines).encode("utf-8", "surrogatepass")
    return draw(damaged_bytes(data))


@st.composite
def damaged_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as it is, re-encoded, truncated, or with bytes flipped or inserted."""
    how = draw(
        st.sampled_from(["same", "same", "truncate", "flip", "insert", "encoding", "bom", "crlf"])
    )
    if how == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if how == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if how == "insert":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if how == "encoding":
        codec = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252"]))
        return data.decode("utf-8", "replace").encode(codec, "replace")
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "crlf":
        return data.replace(b"\n", b"\r\n")
    return data


# -- the invariant -----------------------------------------------------------------------------


def assert_refused_or_correct(web: Web, path: Path) -> None:
    """A clean refusal naming the file, or legs within the limits whose netting adds up."""
    event("refused" if web.errors else "read")
    if web.errors:
        for error in web.errors:
            assert isinstance(error, LedgerError)
            assert error.filename.startswith(str(path)), error
            assert error.lineno >= 0 and error.message.strip(), error
            assert "Traceback" not in error.message and "\n" not in error.message, error
        return
    assert web.legs, "an input without errors has legs (an empty web is refused)"
    for leg in web.legs:
        assert Decimal(0) < leg.amount <= MAX_LEG_AMOUNT
        assert leg.amount == leg.amount.quantize(Decimal("0.01"))
        assert MIN_DATE <= leg.date <= MAX_DATE
        assert leg.payer != leg.payee
    _assert_netting_adds_up(web)


def _assert_netting_adds_up(web: Web) -> None:
    from ledger.flows import GraphError, build_flow_graph
    from ledger.netting import Method, net

    try:
        graph = build_flow_graph(web.frame, Period(), Basis.ANNOUNCED)
    except GraphError:
        return  # several currencies with prices that do not convert: refused with a message
    result = net(graph, Method.MAX)
    for figures in result.companies:
        assert 0 <= figures.circular <= figures.gross
        assert figures.organic == figures.gross - figures.circular
    assert result.total_circular == sum(f.circular for f in result.companies)


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# -- legs CSV ----------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), source=st.sampled_from(CSVS))
def test_a_mutated_legs_csv_is_refused_cleanly_or_read_correctly(
    tmp_path_factory, data: st.DataObject, source: Path
) -> None:
    """read_web never raises on a damaged CSV: clean errors, or legs within the limits."""
    folder = tmp_path_factory.mktemp("csv")
    path = _write(folder, "legs.csv", data.draw(mutated(source.read_text(encoding="utf-8"))))
    assert_refused_or_correct(read_web(path), path)


@FUZZ_CLI
@given(data=st.data(), source=st.sampled_from(CSVS))
def test_net_and_book_on_a_mutated_csv_exit_0_or_2_and_write_all_or_nothing(
    tmp_path_factory, data: st.DataObject, source: Path
) -> None:
    """Through the CLI: exit 0 with complete outputs, or exit 2 with the reader's first error
    as the first line and nothing written; ``book`` and ``net`` agree on which."""
    folder = tmp_path_factory.mktemp("cli")
    path = _write(folder, "legs.csv", data.draw(mutated(source.read_text(encoding="utf-8"))))
    web = read_web(path)
    before = tree(folder)
    netted = run("net", path, "-f", "json", "--out", folder / "net.json")
    booked = run("book", path, "--out", folder / "books")
    for outcome in (netted, booked):
        assert outcome.code in (0, 2), outcome
        assert "Traceback" not in outcome.err and "internal error" not in outcome.err
    if web.errors:
        assert netted.code == booked.code == 2
        assert netted.err_lines[0] == booked.err_lines[0] == str(web.errors[0])
        assert tree(folder) == before
        return
    assert netted.code == booked.code == 0, (netted, booked)
    import json

    json.loads((folder / "net.json").read_text(encoding="utf-8"))
    checked = run("check", folder / "books")
    assert checked.code == 0, checked
    assert f"ok: {len(web.legs)} legs" in checked.out


# -- Parquet -----------------------------------------------------------------------------------

_COLUMN_VALUES = {
    "string": st.one_of(st.sampled_from(ODD_NUMBERS + ODD_TEXT + ODD_DATES), st.text(max_size=8)),
    "int64": st.integers(-(2**63), 2**63 - 1),
    "float64": st.floats(allow_nan=True),
    "decimal": st.decimals(min_value=-(10**20), max_value=10**20, places=2, allow_nan=False),
    "date": st.dates(),
    "bool": st.booleans(),
}
_ARROW = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "decimal": pa.decimal128(38, 2),
    "date": pa.date32(),
    "bool": pa.bool_(),
}
_VALID_ROW = {
    "date": "2025-09-22",
    "deal": "d",
    "payer": "Nvidia",
    "payee": "OpenAI",
    "kind": "equity",
    "amount": "100.00",
    "currency": "USD",
    "status": "realized",
}


@st.composite
def parquet_tables(draw: st.DrawFn) -> pa.Table:
    """A valid legs table (text columns), then none to three damages: a column dropped, a
    stranger added, or a column replaced by random values of a random type."""
    rows = draw(st.integers(0, 6))
    columns = {
        name: pa.array([value if name != "deal" else f"d{i}" for i in range(rows)], pa.string())
        for name, value in _VALID_ROW.items()
    }
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([*_VALID_ROW, "leg", "estimate", "x"]))
        if name in columns and draw(st.booleans()):
            del columns[name]
            continue
        kind = draw(st.sampled_from(list(_ARROW)))
        cells = st.one_of(st.none(), _COLUMN_VALUES[kind])
        columns[name] = pa.array(draw(st.lists(cells, min_size=rows, max_size=rows)), _ARROW[kind])
    return pa.table(columns) if columns else pa.table({"x": pa.array([], pa.int64())})


@FUZZ
@given(table=parquet_tables(), cut=st.one_of(st.none(), st.integers(0, 4000)))
def test_a_random_or_truncated_parquet_file_is_refused_cleanly_or_read_correctly(
    tmp_path_factory, table: pa.Table, cut: int | None
) -> None:
    """read_web never raises on a Parquet file of any columns and types, whole or truncated."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    path = _write(tmp_path_factory.mktemp("pq"), "legs.parquet", data[:cut] if cut else data)
    assert_refused_or_correct(read_web(path), path)


# -- deals files -------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_a_mutated_deals_file_is_refused_cleanly_or_read_correctly(
    tmp_path_factory, data: st.DataObject
) -> None:
    """read_web never raises on a damaged deals file, and never expands past the limits."""
    text = SMALL_DEALS.read_text(encoding="utf-8")
    damaged = data.draw(mutated(text, separator=": "))
    path = _write(tmp_path_factory.mktemp("yaml"), "deals.yaml", damaged)
    assert_refused_or_correct(read_web(path), path)


# -- beancount books ---------------------------------------------------------------------------


def _made_once(made: Path, verb: str, option: str) -> Path:
    """``made`` by ``roundtrip VERB vendor_financing.csv OPTION made``, the first time asked."""
    if not made.exists():
        outcome = run(verb, FIXTURES / "examples" / "vendor_financing.csv", option, made)
        assert outcome.code == 0, outcome
    return made


def _template_books(folder: Path) -> Path:
    return _made_once(folder / "template", "book", "--out")


@FUZZ
@given(data=st.data())
def test_a_mutated_book_is_refused_cleanly_or_read_correctly(
    tmp_path_factory, data: st.DataObject
) -> None:
    """read_web never raises on a folder of books one of which is damaged."""
    template = _template_books(tmp_path_factory.getbasetemp())
    folder = tmp_path_factory.mktemp("books")
    books = folder / "books"
    shutil.copytree(template, books)
    victims = sorted(p for p in books.glob("*.beancount") if ".forward." not in p.name)
    victim = data.draw(st.sampled_from(victims))
    victim.write_bytes(data.draw(mutated(victim.read_text(encoding="utf-8"), separator=" ")))
    assert_refused_or_correct(read_web(books), books)


# -- stores: --db values and damaged store files -----------------------------------------------

#: Parts of --db values as users mistype them. Hosts stay on this machine (or a name that cannot
#: resolve), so that no example waits for a remote connection to time out.
_SCHEMES = [
    "sqlite",
    "sqlite+pysqlite",
    "postgresql",
    "postgres",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+asyncpg",
    "mysql",
    "foo",
    "",
    "sqlite:",
    "SQLITE",
]
_HOSTS = ["127.0.0.1", "localhost", "[::1]", "no-such-host.invalid", "", "[::1", "@", ":"]
_PORTS = ["", ":1", ":5432", ":99999", ":abc", ":-1", ":"]
_TAILS = ["test", "rt_no_such_database", "", "?sslmode=bogus", "test?x=%zz", "%00", "/"]


@st.composite
def store_urls(draw: st.DrawFn) -> str:
    """A --db value: a URL of mistyped parts, or a path in the folder ``{folder}`` stands for
    (filled in after the draw, so that each example draws alike), either perhaps cut."""
    if draw(st.booleans()):
        user = draw(st.sampled_from(["root@", "", "nosuchrole@", "a:b@", "%@"]))
        url = (
            f"{draw(st.sampled_from(_SCHEMES))}://{user}{draw(st.sampled_from(_HOSTS))}"
            f"{draw(st.sampled_from(_PORTS))}/{draw(st.sampled_from(_TAILS))}"
        )
    else:
        name = draw(
            st.text(
                st.characters(blacklist_characters="/", blacklist_categories=("Cc", "Zl", "Zp")),
                max_size=12,
            )
        )
        url = f"{draw(st.sampled_from(['', 'sqlite:///']))}{{folder}}/{name}"
    if draw(st.booleans()):
        url = url[: draw(st.integers(0, len(url)))]
    return url


def _assert_clean_store_refusal(outcome) -> None:
    assert outcome.code in (1, 2), outcome
    assert "Traceback" not in outcome.err and "internal error" not in outcome.err, outcome
    # One line: one newline, at the end (a path may hold U+0085 or U+2028, which splitlines
    # would count as line breaks).
    assert outcome.err.endswith("\n") and outcome.err.count("\n") == 1, outcome


@FUZZ
@given(data=st.data())
def test_a_mistyped_store_url_is_one_clean_line(tmp_path_factory, data: st.DataObject) -> None:
    """``net --db`` and ``audit --db`` on a --db value that names no store: one line, exit 1 or
    2, and nothing created."""
    folder = tmp_path_factory.mktemp("urls")
    url = data.draw(store_urls()).replace("{folder}", str(folder))
    event(url.split("://")[0] if "://" in url else "path")
    for verb in ("net", "audit"):
        outcome = run(verb, "--db", url)
        _assert_clean_store_refusal(outcome)
        assert tree(folder) == {}, url


def _template_store(folder: Path) -> Path:
    return _made_once(folder / "template.db", "load", "--db")


@FUZZ
@given(data=st.data())
def test_a_damaged_store_file_is_refused_cleanly_or_read(tmp_path_factory, data: st.DataObject):
    """``net --db`` on a SQLite store whose bytes are flipped or cut: one clean line (exit 1 or 2)
    or a netting whose JSON reads; never an internal error."""
    template = _template_store(tmp_path_factory.getbasetemp())
    folder = tmp_path_factory.mktemp("store")
    store = folder / "roundtrip.db"
    content = bytearray(template.read_bytes())
    if data.draw(st.booleans()):
        content = content[: data.draw(st.integers(0, len(content)))]
    for _ in range(data.draw(st.integers(1, 12)) if content else 0):
        content[data.draw(st.integers(0, len(content) - 1))] = data.draw(st.integers(0, 255))
    store.write_bytes(bytes(content))
    outcome = run("net", "--db", store, "-f", "json")
    if outcome.code == 0:
        event("read")
        import json

        json.loads(outcome.out)
    else:
        _assert_clean_store_refusal(outcome)
