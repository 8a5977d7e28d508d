"""The only reader of protocol files: YAML text → node tree with line numbers → Protocol model.

All problems of one file (YAML, schema, cross-field rules) are collected and raised once as a
ProtocolError whose lines read `file:line:col: field.path: message`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regimens.errors import Diagnostic, ProtocolError

# PyYAML and pydantic are imported where a file is parsed, not here: a protocol from the parse
# cache (protocol/cache.py) needs neither YAML nor the schema's validators, and the many modules
# that import ProtocolFile only name it.
if TYPE_CHECKING:
    import yaml

    from regimens.protocol.cache import ParseCache
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



def _default_loader() -> type:
    """The YAML loader used (`loader.LOADER`; bench/yaml_loader.py compares it with
    yaml.SafeLoader). libyaml's C parser and composer (about 15x faster than PyYAML's
    pure-Python ones) keep every node's start mark, so diagnostics keep their lines; the
    pure-Python loader is the fallback where PyYAML was built without libyaml."""
    chosen = globals().get("LOADER")  # a test or bench may set loader.LOADER to compare loaders
    if chosen is not None:
        return chosen
    import yaml

    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


def __getattr__(name: str) -> Any:
    if name == "LOADER":
        return _default_loader()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

MAX_FILE_BYTES = 2_000_000
"""A protocol is a few tens of kB; anything this large is not one (or is /dev/zero)."""
MAX_NODES = 50_000
"""Values (scalars, lists, mappings) after expanding YAML aliases. The largest shipped protocol
has under 1,000; a "billion laughs" file (aliases of aliases) would have billions."""
MAX_DEPTH = 40
"""Nesting depth after expanding aliases; a protocol needs about 10."""

_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str", "timestamp", "seq", "map")}

# C0 and C1 control characters (newline allowed: block text), and the bidirectional embeddings,
# overrides and isolates that make text display in another order than it is stored.
_FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NAMES = {"\x00": "NUL", "\x1b": "escape", "\t": "tab", "\r": "carriage return", "\x7f": "delete"}


def _control_message(ch: str) -> str:
    code = f"U+{ord(ch):04X}"
    if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069":
        what = f"the text-direction control {code}"
    else:
        what = f"the control character {code}" + (f" ({_CONTROL_NAMES[ch]})" if ch in _CONTROL_NAMES else "")
    return (f"text contains {what}; delete it (control characters, terminal escapes and direction"
            " overrides would change what a nurse or patient reads)")


class _Walk:
    """Composed YAML nodes → plain Python values, with the line of every path."""

    def __init__(self, text: str) -> None:
        import yaml

        self.yaml = yaml
        self.construct = yaml.constructor.SafeConstructor.yaml_constructors
        # Only a forbidden character in the file, or an escape in a quoted string ("\x1b"), can
        # put one into a value: otherwise the per-value check is skipped.
        self.check_text = bool(_FORBIDDEN.search(text)) or "\\" in text
        self.lines: dict = {}
        self.problems: list = []  # (path, node, message)
        self.constructor = yaml.constructor.SafeConstructor()
        self.count = 0
        self.seen: dict[int, list] = {}  # id of a mapping or list → [node, times reached]

    def value(self, node: yaml.Node, path: Path_) -> Any:
        # Aliases make the composed tree a graph: expanding it is where a small file can become
        # billions of values (or an endless one, `&a [*a]`), so the walk itself is budgeted.
        self.count += 1
        if self.count > MAX_NODES or len(path) > MAX_DEPTH:
            self._too_big()
        self.lines[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, self.yaml.ScalarNode):
            return self._scalar(node, path)
        entry = self.seen.setdefault(id(node), [node, 0])
        entry[1] += 1
        if isinstance(node, self.yaml.MappingNode):
            return self._mapping(node, path)
        return [self.value(child, path + (i,)) for i, child in enumerate(node.value)]

    def _too_big(self) -> None:
        what = f"more than {MAX_NODES:,} values" if self.count > MAX_NODES else f"more than {MAX_DEPTH} levels deep"
        node, repeats = max(self.seen.values(), key=lambda e: e[1], default=(None, 0))
        raise _TooBig(what, node if repeats > 1 else None, repeats)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict:
        out: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, self.yaml.ScalarNode):
                self.problems.append((path, key_node, "mapping keys must be plain names"))
                continue
            key = key_node.value
            if key in out:
                self.problems.append((path + (key,), key_node,
                                      f"duplicate key {key!r}; give it once (YAML would silently keep only the last)"))
                continue
            self._text(key, path + (key,), key_node)
            out[key] = self.value(value_node, path + (key,))
            self.lines[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag if len(node.tag) <= 40 else node.tag[:37] + "..."
            self.problems.append((path, node, f"YAML tag {tag!r} is not allowed in a protocol file;"
                                              " remove it (values are text, numbers, lists and mappings)"))
            return None
        # Resolve with the safe constructor so 12 → int, 0.3 → float, yes → str stays str.
        value = self.construct[node.tag](self.constructor, node)
        if isinstance(value, bool) and node.value.lower() not in ("true", "false"):
            # YAML 1.1 reads yes/no/on/off as booleans; protocol authors mean the word.
            return node.value
        if isinstance(value, str):
            self._text(value, path, node)
        return value

    def _text(self, text: str, path: Path_, node: yaml.Node) -> None:
        m = self.check_text and _FORBIDDEN.search(text)
        if m:
            self.problems.append((path, node, _control_message(m.group())))


class _TooBig(Exception):
    def __init__(self, what: str, node: yaml.Node | None, repeats: int):
        self.what, self.node, self.repeats = what, node, repeats


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


def _at(filename: str, mark, message: str) -> ProtocolError:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return ProtocolError([Diagnostic(filename, line, col, "", message)])


def _compose(text: str, loader: type) -> yaml.Node | None:
    import yaml

    try:
        return yaml.compose(text, Loader=loader)
    except yaml.YAMLError as fast:
        if loader is yaml.SafeLoader:
            raise
        # libyaml words syntax errors differently: take PyYAML's words, which the docs and the
        # test corpus show (only a broken file pays for the second parse).
        try:
            yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as slow:
            raise slow from None
        except RecursionError:  # deeper than Python recurses: libyaml's own message and mark
            raise fast from None
        raise fast from None


def parse_text(text: str, filename: str, loader: type | None = None) -> tuple[dict, dict]:
    """YAML text → (python data, line map). Raises ProtocolError on syntax, duplicate keys, tags,
    control characters, or aliases that expand beyond MAX_NODES values or MAX_DEPTH levels."""
    import yaml

    try:
        root = _compose(text, loader or _default_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "unreadable YAML"
        if exc.context and exc.context_mark is not None:
            # "found unexpected end of stream" at the last line says nothing about where the
            # unclosed quote or bracket began; the context mark does.
            problem = f"{problem} {exc.context} that starts at line {exc.context_mark.line + 1}"
            if "end of stream" in (exc.problem or ""):
                mark = exc.context_mark
        if "maximum nesting depth" in problem:
            raise _at(filename, mark, "nested too deeply (YAML allows at most 1000 levels; a protocol"
                                      " needs about 10)") from None
        raise _at(filename, mark, f"YAML syntax error: {problem}; check indentation and quoting") from None
    except yaml.reader.ReaderError as exc:
        # A control character (or a lone surrogate) that YAML forbids anywhere in the text.
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        raise ProtocolError([Diagnostic(filename, line, col, "", f"character U+{exc.character:04X} is not"
                                        " allowed in a YAML file; delete it (often pasted from a PDF)")]) from None
    except RecursionError:  # the pure-Python composer on deep nesting
        raise ProtocolError([Diagnostic(filename, 1, 1, "", "nested too deeply; a protocol needs about"
                                        " 10 levels")]) from None
    except yaml.YAMLError as exc:
        # Only the kind of problem: the text of a file that is not ours is never echoed.
        raise ProtocolError([Diagnostic(filename, 1, 1, "", f"YAML error ({type(exc).__name__});"
                                        " is this a protocol file?")]) from None
    if root is None:
        raise ProtocolError([Diagnostic(filename, 1, 1, "", "file is empty; a protocol needs id, title, version, ...")])
    walk = _Walk(text)
    try:
        data = walk.value(root, ())
    except _TooBig as exc:
        if exc.node is None:
            raise _at(filename, root.start_mark, f"this file is {exc.what}; a protocol has under 1,000 values"
                                                 f" about 10 levels deep") from None
        raise _at(filename, exc.node.start_mark, f"YAML aliases (*name) expand this file to {exc.what}: the value"
                                                 f" anchored here is repeated {exc.repeats:,} times or more;"
                                                 " write values out (a protocol has under 1,000)") from None
    lines = walk.lines
    if walk.problems:
        raise ProtocolError(sorted(
            (Diagnostic(filename, n.start_mark.line + 1, n.start_mark.column + 1, _dotted(p), msg)
             for p, n, msg in walk.problems), key=lambda d: (d.line, d.col)))
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
    "finite_number": "expected a finite number",
}


def _field_names() -> set[str]:
    from pydantic import BaseModel

    from regimens.protocol import schema

    names: set[str] = set()
    for obj in vars(schema).values():
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
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        return f"must be {words} {bound}, got {_short(inp)}"
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
    from pydantic import ValidationError

    from regimens.protocol.checks import check_protocol  # cross-field rules, kept apart from the loader
    from regimens.protocol.schema import Protocol, to_model

    data, lines = parse_text(text, filename)
    if not _looks_like_a_protocol(data):
        # Perhaps a path that names some other file: report where, never what it contains.
        raise ProtocolError([Diagnostic(filename, *lines[()], "", "not a regimens protocol file (it has no `id:` and"
                                        " no `courses:` or `arms:`); give a protocol id or a protocol .yaml file")])
    try:
        # the plain form (model.py) from here on: what the checks, the cache and every reader get
        protocol = to_model(Protocol.model_validate(data))
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


def _looks_like_a_protocol(data: dict) -> bool:
    return "id" in data and ("courses" in data or "arms" in data)


def _validates(cls: Any, value: Any) -> bool:
    from pydantic import ValidationError

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
    from pydantic import ValidationError

    from regimens.protocol import model, schema
    from regimens.protocol.checks import check_protocol

    collections = [("sources", schema.Source), ("ambiguities", schema.Ambiguity),
                   ("decisions", schema.Decision), ("courses", schema.Course),
                   ("phases", schema.Phase), ("arms", schema.Arm)]
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
                idx = [k for k, it in enumerate(value["items"]) if _validates(schema.Item, it)]
                if len(idx) != len(value["items"]):
                    index_maps[key] = idx
                value = {**value, "items": [value["items"][k] for k in idx]}
            try:
                good.append((key, schema.to_model(cls.model_validate(value))))
            except ValidationError:
                label = key if isinstance(key, str) else value.get("key", value.get("label")) if isinstance(value, dict) else None
                dropped.add(str(label) if label is not None else f"#{key}")
        if name == "sources" and len(good) != len(pairs):
            dropped.add("<source>")
        kept[name] = dict(good) if isinstance(raw, dict) else tuple(v for _, v in good)
    common = data.get("common", ())
    default_arm = data.get("default_arm")
    salvage = _construct(
        model.Protocol, **kept,
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


def _construct(cls: type, **values: Any) -> Any:
    """A model.py record with only the fields given and the defaults (what pydantic's
    `model_construct` made for the salvage pass): a required field not given stays unset."""
    obj = object.__new__(cls)
    obj.__dict__.update({n: v for n, v in cls.DEFAULTS.items() if n not in values}, **values)
    return obj


def load_path(path: str | Path, origin: str = "file", cache: ParseCache | None = None) -> ProtocolFile:
    """Read and validate a protocol file; with a `cache`, a file already validated with this
    code is taken from it (the same Protocol, without parsing again)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)  # bounded: /dev/zero or a huge file is not a protocol
    except OSError as exc:
        raise ProtocolError([Diagnostic(str(p), 1, 1, "", f"cannot read file: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ProtocolError([Diagnostic(str(p), 1, 1, "", f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB;"
                                        " a protocol file is a few tens of kB")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError([Diagnostic(str(p), 1, 1, "", "file is not UTF-8 text")]) from None
    if cache is not None:
        from regimens.protocol.bibliography import use_cache

        use_cache(cache)
        protocol = cache.get(raw)
        if protocol is not None:
            return ProtocolFile(protocol, str(p), hashlib.sha256(raw).hexdigest(), origin)
    pf = load_text(text, str(p), origin)
    if cache is not None:
        cache.put(raw, pf.protocol)
    return pf
