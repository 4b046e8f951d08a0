"""JSON written as it is made: the bytes of ``json.dumps(data, indent=2)``, streamed.

``json.dumps`` with ``indent`` runs Python's pure encoder and builds the whole text at once;
a netting of a million legs with every cycle listed is some 200 MB of it. :func:`write_json`
writes the same text piece by piece (strings through the C escaper), and takes iterators
where lists would be (``to_json_dict(..., lazy=True)``), so every cycle can be written without
holding them all. ``render_json(data) == dumps(data)`` for any data both accept.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

__all__ = ["dumps", "write_json"]

_escape = json.encoder.encode_basestring  # the C escaper when the C module is there (CPython)
_LEAVES = (str, int, float, bool, type(None))


def _leaf(value: Any) -> str:
    if isinstance(value, str):
        return _escape(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return int.__repr__(value)
    return json.dumps(value)


def _chunks(value: Any, depth: int) -> Iterator[str]:
    if isinstance(value, _LEAVES):
        yield _leaf(value)
        return
    inner = "\n" + "  " * (depth + 1)
    if isinstance(value, Mapping):
        if not value:
            yield "{}"
            return
        if all(isinstance(item, _LEAVES) for item in value.values()):
            # A record of plain values (a company's figures): one string, not one per value.
            body = ",".join(inner + _escape(str(k)) + ": " + _leaf(v) for k, v in value.items())
            yield "{" + body + "\n" + "  " * depth + "}"
            return
        first = True
        for key, item in value.items():
            yield ("{" if first else ",") + inner + _escape(str(key)) + ": "
            first = False
            yield from _chunks(item, depth + 1)
        yield "\n" + "  " * depth + "}"
        return
    if isinstance(value, list | tuple) and value and all(isinstance(v, _LEAVES) for v in value):
        yield "[" + ",".join(inner + _leaf(v) for v in value) + "\n" + "  " * depth + "]"
        return
    if isinstance(value, Iterable):
        first = True
        for item in value:
            yield ("[" if first else ",") + inner
            first = False
            yield from _chunks(item, depth + 1)
        yield "[]" if first else "\n" + "  " * depth + "]"
        return
    raise TypeError(f"not JSON: {type(value).__name__}")


def write_json(data: Any, stream: IO[str]) -> None:
    """Write ``data`` as ``json.dumps(data, indent=2, ensure_ascii=False)`` would, and a newline."""
    buffer: list[str] = []
    size = 0
    for chunk in _chunks(data, 0):
        buffer.append(chunk)
        size += len(chunk)
        if size > 1 << 16:
            stream.write("".join(buffer))
            buffer, size = [], 0
    buffer.append("\n")
    stream.write("".join(buffer))


def dumps(data: Any) -> str:
    """The text :func:`write_json` writes."""
    out = io.StringIO()
    write_json(data, out)
    return out.getvalue()
