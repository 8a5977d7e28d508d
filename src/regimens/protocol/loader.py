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

from regimens.errors import Diagnostic, ProtocolError
from regimens.protocol.model import Protocol

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
                dups.append((path + (key,), key_node, f"duplicate key {key!r}; give it once (YAML would silently keep only the last)"))
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
        problem = exc.problem or str(exc)
        if exc.context and exc.context_mark is not None:
            # "found unexpected end of stream" at the last line says nothing about where the
            # unclosed quote or bracket began; the context mark does.
            problem = f"{problem} {exc.context} that starts at line {exc.context_mark.line + 1}"
            if "end of stream" in (exc.problem or ""):
                mark = exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ProtocolError(
            [Diagnostic(filename, line, col, "", f"YAML syntax error: {problem}; check indentation and quoting")]
        ) from None
    except yaml.reader.ReaderError as exc:
        # A control character (or a lone surrogate) that YAML forbids anywhere in the text.
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        raise ProtocolError([Diagnostic(filename, line, col, "", f"character {chr(exc.character)!r} is not"
                                        " allowed in a YAML file; delete it (often pasted from a PDF)")]) from None
    except yaml.YAMLError as exc:
        msg = " ".join(str(exc).split())
        raise ProtocolError([Diagnostic(filename, 1, 1, "", f"YAML error: {msg}")]) from None
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
        line, col = lines[()]
        raise ProtocolError([Diagnostic(filename, line, col, "", "a protocol file is a YAML mapping (id:, title:, ...)")])
    return data, lines


_EXPECTED = {
    "tuple_type": "expected a list (YAML `- item` lines or [a, b])",
    "list_type": "expected a list (YAML `- item` lines or [a, b])",
    "dict_type": "expected a mapping (`name: value` lines)",
    "model_type": "expected a mapping (`name: value` lines)",
    "model_attributes_type": "expected a mapping (`name: value` lines)",
    "string_type": "expected text; quote it (e.g. \"1-4, 11-14\")",
}


def _field_names() -> set[str]:
    from pydantic import BaseModel

    from regimens.protocol import model

    names: set[str] = set()
    for obj in vars(model).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names.update(obj.model_fields)
    return names


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _pydantic_message(err: dict) -> str:
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        import difflib

        name = str(err["loc"][-1]) if err["loc"] else ""
        close = difflib.get_close_matches(name, sorted(_field_names()), n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown field; {hint}check the spelling against docs/protocol-format.md"
    if err["type"] == "missing":
        if err["loc"] and err["loc"][-1] == "source":
            return "required field is missing: every value names its source; add `source: KEY` (a key under `sources`)"
        return "required field is missing"
    inp = err.get("input")
    ctx = err.get("ctx") or {}
    if err["type"] == "literal_error":
        return f"expected {ctx.get('expected')}, got {_short(inp)}"
    bounds = {"greater_than_equal": ("at least", "ge"), "greater_than": ("more than", "gt"),
              "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt")}
    if err["type"] in bounds:
        words, key = bounds[err["type"]]
        return f"must be {words} {ctx.get(key)}, got {_short(inp)}"
    if err["type"] in _EXPECTED:
        return f"{_EXPECTED[err['type']]}, got {_short(inp)}"
    if err["type"] in ("float_parsing", "float_type"):
        return f"expected a number, got {_short(inp)}"
    if err["type"] in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {_short(inp)}"
    if err["type"] == "too_short":
        ctx = err.get("ctx") or {}
        need = ctx.get("min_length")
        return f"needs at least {need} entr{'y' if need == 1 else 'ies'}, got {ctx.get('actual_length', 0)}"
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
    from regimens.protocol.checks import check_protocol  # cross-field rules, kept apart from the loader

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
        # Report the cross-field problems of the parts that did validate in the same run.
        for path, msg in _salvaged_problems(data, [_clean_loc(e["loc"]) for e in exc.errors()]):
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


def _validates(cls: Any, value: Any) -> bool:
    try:
        cls.model_validate(value)
    except ValidationError:
        return False
    return True


def _salvaged_problems(data: dict, schema_errors: list[Path_]) -> list[tuple[Path_, str]]:
    """Cross-field problems of a file whose schema check failed, so that one run reports all.

    Entries (sources, decisions, courses, items, phases, arms) that validate on their own are
    assembled into a best-effort Protocol and checked. Problems that could be echoes of a schema
    error are left out: any under an entry with a schema error, any naming a dropped entry, and
    unknown-source problems when a source entry was dropped.
    """
    from regimens.protocol import model
    from regimens.protocol.checks import check_protocol

    collections = [("sources", model.Source), ("ambiguities", model.Ambiguity),
                   ("decisions", model.Decision), ("courses", model.Course),
                   ("phases", model.Phase), ("arms", model.Arm)]
    if any(len(p) < 2 and p and p[0] in dict(collections) for p in schema_errors):
        return []  # a whole collection has the wrong shape: nothing reliable to check
    # An item's schema error taints that item only; any other error taints its whole entry.
    tainted = {p[:4] if len(p) >= 4 and p[0] == "courses" and p[2] == "items" else p[:2]
               for p in schema_errors if len(p) >= 2}
    kept: dict[str, Any] = {}
    dropped: set[str] = set()
    index_maps: dict[str, list[int]] = {}  # course id -> original index of each kept item
    for name, cls in collections:
        raw = data.get(name, {} if name in ("decisions", "courses", "phases") else [])
        pairs = list(raw.items()) if isinstance(raw, dict) else list(enumerate(raw)) if isinstance(raw, list) else []
        good: list[tuple[Any, Any]] = []
        for key, value in pairs:
            if name == "courses" and isinstance(value, dict) and isinstance(value.get("items"), list):
                idx = [k for k, it in enumerate(value["items"]) if _validates(model.Item, it)]
                if len(idx) != len(value["items"]):
                    index_maps[key] = idx
                value = {**value, "items": [value["items"][k] for k in idx]}
            try:
                good.append((key, cls.model_validate(value)))
            except ValidationError:
                label = key if isinstance(key, str) else value.get("key", value.get("label")) if isinstance(value, dict) else None
                dropped.add(str(label) if label is not None else f"#{key}")
        if name == "sources" and len(good) != len(pairs):
            dropped.add("<source>")
        kept[name] = dict(good) if isinstance(raw, dict) else tuple(v for _, v in good)
    common = data.get("common", ())
    default_arm = data.get("default_arm")
    salvage = model.Protocol.model_construct(
        **kept,
        common=tuple(common) if isinstance(common, list) and all(isinstance(c, str) for c in common) else (),
        default_arm=default_arm if isinstance(default_arm, str) else None,
    )
    out: list[tuple[Path_, str]] = []
    for path, msg in check_protocol(salvage):
        if path[:1] == ("courses",) and path[1] in index_maps:
            if len(path) < 4 or "overlaps item" in msg or path[-1] == "for_drug":
                continue  # depends on items that were dropped
            path = path[:3] + (index_maps[path[1]][path[3]],) + path[4:]
        if path[:2] in tainted or path[:4] in tainted:
            continue
        if any(f"{d!r}" in msg for d in dropped) or ("<source>" in dropped and "unknown source" in msg):
            continue
        out.append((path, msg))
    return out


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
