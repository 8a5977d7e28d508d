"""The only reader of protocol files: YAML text → node tree with line numbers → Protocol model.

All problems of one file (YAML, schema, cross-field rules) are collected and raised once as a
ProtocolError whose lines read `file:line:col: field.path: message`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import Diagnostic, ProtocolError
from .model import Protocol

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class ProtocolFile:
    """A validated protocol together with the file it came from."""

    protocol: Protocol
    path: str
    content_hash: str
    """sha256 of the file bytes; outputs print its first 12 hex digits."""
    origin: str
    """`shipped` or `site` (a user's protocol directory) or `file` (a path given directly)."""

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps every value a plain Python value; no custom tags."""


def _node_to_python(node: yaml.Node, path: Path_, lines: dict, dups: list) -> Any:
    lines[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                dups.append((path, key_node, "mapping keys must be plain names"))
                continue
            key = key_node.value
            if key in out:
                dups.append((path + (key,), key_node, f"duplicate key {key!r}; each id once"))
                continue
            lines[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _node_to_python(value_node, path + (key,), lines, dups)
            lines[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _node_to_python(child, path + (i,), lines, dups) for i, child in enumerate(node.value)
        ]
    # Scalars: resolve with the safe constructor so 12 → int, 0.3 → float, yes → str stays str.
    loader = _Loader("")
    value = loader.construct_object(node, deep=True)
    if isinstance(value, bool) and node.value.lower() not in ("true", "false"):
        # YAML 1.1 reads yes/no/on/off as booleans; protocol authors mean the word.
        return node.value
    return value


def _dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _locate(lines: dict, path: Path_) -> tuple[int, int]:
    p = tuple(path)
    while p and p not in lines:
        p = p[:-1]
    return lines.get(p, (1, 1))


def parse_text(text: str, filename: str) -> tuple[dict, dict]:
    """YAML text → (python data, line map). Raises ProtocolError on syntax or duplicate keys."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or str(exc)
        raise ProtocolError(
            [Diagnostic(filename, line, col, "", f"YAML syntax error: {problem}; check indentation and quoting")]
        ) from None
    except yaml.YAMLError as exc:
        raise ProtocolError([Diagnostic(filename, 1, 1, "", f"YAML error: {exc}")]) from None
    if root is None:
        raise ProtocolError([Diagnostic(filename, 1, 1, "", "file is empty; a protocol needs id, title, version, ...")])
    lines: dict = {}
    dups: list = []
    data = _node_to_python(root, (), lines, dups)
    if dups:
        raise ProtocolError(
            [
                Diagnostic(filename, n.start_mark.line + 1, n.start_mark.column + 1, _dotted(p), msg)
                for p, n, msg in dups
            ]
        )
    if not isinstance(data, dict):
        raise ProtocolError([Diagnostic(filename, 1, 1, "", "a protocol file is a YAML mapping (id:, title:, ...)")])
    return data, lines


def _pydantic_message(err: dict) -> str:
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] == "extra_forbidden":
        return "unknown field; check the spelling against docs/protocol-format.md"
    if err["type"] == "missing":
        return "required field is missing"
    inp = err.get("input")
    if err["type"] not in ("value_error", "assertion_error") and isinstance(inp, (str, int, float)):
        msg = f"{msg} (got {inp!r})"
    return msg


def _clean_loc(loc: tuple) -> Path_:
    # pydantic adds union-member tags ('str', 'Branch', 'function-after[...]') to locations.
    out: list = []
    for part in loc:
        if isinstance(part, str) and (
            part in ("str", "int", "Branch", "float") or "[" in part or part.startswith("function")
        ):
            continue
        out.append(part)
    return tuple(out)


def load_text(text: str, filename: str, origin: str = "file") -> ProtocolFile:
    """Validate protocol text; every problem of the file is reported in one ProtocolError."""
    from .checks import check_protocol  # cross-field rules, kept apart from the loader

    data, lines = parse_text(text, filename)
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        diags = []
        seen = set()
        for err in exc.errors():
            path = _clean_loc(err["loc"])
            msg = _pydantic_message(err)
            if (path, msg) in seen:
                continue
            seen.add((path, msg))
            line, col = _locate(lines, path)
            diags.append(Diagnostic(filename, line, col, _dotted(path), msg))
        raise ProtocolError(sorted(diags, key=lambda d: (d.line, d.col))) from None
    problems = check_protocol(protocol)
    if problems:
        diags = []
        for path, msg in problems:
            line, col = _locate(lines, path)
            diags.append(Diagnostic(filename, line, col, _dotted(path), msg))
        raise ProtocolError(sorted(diags, key=lambda d: (d.line, d.col)))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ProtocolFile(protocol, filename, digest, origin)


def load_path(path: str | Path, origin: str = "file") -> ProtocolFile:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ProtocolError([Diagnostic(str(p), 1, 1, "", f"cannot read file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError([Diagnostic(str(p), 1, 1, "", "file is not UTF-8 text")]) from None
    return load_text(text, str(p), origin)
