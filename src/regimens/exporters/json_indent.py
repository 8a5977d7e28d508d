"""Indented JSON, the same text as `json.dumps(value, indent=N, ensure_ascii=False)`, made
mostly by the standard library's C encoder.

Why: CPython's `json` uses its C encoder only without `indent`; with it, every value goes
through the pure-Python `_iterencode` generators. A whole-course timeline (1,800 events of 40
fields) spent 70 % of its JSON export there, and a batch writes one per patient.

How: the C encoder writes any container with the separators it is given. At nesting depth d
the indented text of a container is its items joined by `",\\n" + indent * (d + 1)`, between
the opening bracket plus that same line break and a line break plus `indent * d` before the
closing bracket. So every run of consecutive items that hold no non-empty container (scalars,
`{}`, `[]`) is one C call with `separators=(",\\n" + indent * (d + 1), ": ")`, its outer
brackets cut off; only the nested containers are walked here. tests/exporters/test_json_indent.py
checks the text against `json.dumps` on every shipped protocol's timeline and on generated data.

A value of another type goes back to `json.dumps`, so the text and the errors stay the standard
library's; keys that are not text are converted by the C encoder, as `json.dumps` converts them.
It does not check for circular references (a timeline has none): one would end in RecursionError.
"""

from __future__ import annotations

import json
from typing import Any

_SCALAR = frozenset((str, int, float, bool, type(None)))
_encode_key = json.encoder.encode_basestring  # what both encoders use with ensure_ascii=False
_ENCODERS: dict[str, Any] = {}


def _encoder(sep: str):
    """The C encoder with these separators, made once: `JSONEncoder.encode` would build a new
    one on every call, which costs more than encoding a small container."""
    enc = _ENCODERS.get(sep)
    if enc is None:
        std = json.JSONEncoder(ensure_ascii=False, separators=(sep, ": "))
        make = json.encoder.c_make_encoder
        if make is None:  # no C accelerator (another Python): the standard library's own path
            enc = std.encode
        else:
            # the arguments JSONEncoder.iterencode passes for a one-shot encode, with no
            # circular-reference markers (see the module docstring)
            chunks = make(None, std.default, _encode_key, None, ": ", sep, False, False, True)
            enc = lambda v: "".join(chunks(v, 0))  # noqa: E731
        _ENCODERS[sep] = enc
    return enc


def dumps(value: Any, indent: int = 2) -> str:
    """`json.dumps(value, indent=indent, ensure_ascii=False)`, faster for large nested data."""
    out: list[str] = []
    _value(value, 0, " " * indent, out)
    return "".join(out)


def _value(v: Any, depth: int, unit: str, out: list[str]) -> None:
    t = type(v)
    if t is dict and v:
        _dict(v, depth, unit, out)
    elif (t is list or t is tuple) and v:
        _list(v, depth, unit, out)
    elif t in _SCALAR or t is dict or t is list or t is tuple:
        out.append(json.dumps(v, ensure_ascii=False))
    else:  # another type: the standard library's text or its TypeError
        out.append(_reindent(json.dumps(v, indent=len(unit), ensure_ascii=False), depth, unit))


def _dict(d: dict, depth: int, unit: str, out: list[str]) -> None:
    inner = "\n" + unit * (depth + 1)
    sep = "," + inner
    enc = _encoder(sep)
    out.append("{" + inner)
    first = True
    run: dict[Any, Any] = {}
    for k, v in d.items():
        t = type(v)
        if t in _SCALAR or ((t is dict or t is list or t is tuple) and not v):
            run[k] = v  # the C encoder converts (or refuses) the key as json.dumps does
            continue
        if run:
            out.append(("" if first else sep) + enc(run)[1:-1])
            run = {}
            first = False
        # a key of an int, float, bool or None is written as the encoder writes it
        key = _encode_key(k) if type(k) is str else enc({k: None})[1:-7]  # '{KEY: null}'
        out.append(("" if first else sep) + key + ": ")
        first = False
        _value(v, depth + 1, unit, out)
    if run:
        out.append(("" if first else sep) + enc(run)[1:-1])
    out.append("\n" + unit * depth + "}")


def _list(items, depth: int, unit: str, out: list[str]) -> None:
    inner = "\n" + unit * (depth + 1)
    sep = "," + inner
    enc = _encoder(sep)
    out.append("[" + inner)
    first = True
    run: list[Any] = []
    for v in items:
        t = type(v)
        if t in _SCALAR or ((t is dict or t is list or t is tuple) and not v):
            run.append(v)
            continue
        if run:
            out.append(("" if first else sep) + enc(run)[1:-1])
            run = []
            first = False
        if not first:
            out.append(sep)
        first = False
        _value(v, depth + 1, unit, out)
    if run:
        out.append(("" if first else sep) + enc(run)[1:-1])
    out.append("\n" + unit * depth + "]")


def _reindent(text: str, depth: int, unit: str) -> str:
    """A container the standard library indented from depth 0, moved to `depth`: every line
    after the first gets the outer indent (JSON strings hold no raw line breaks)."""
    return text.replace("\n", "\n" + unit * depth) if depth else text
