"""Finding protocols: the shipped library plus an optional site directory that overrides it.

A site directory (`--protocols DIR` or REGIMENS_PROTOCOLS) lets a site add protocols or complete
the not-public parts of a shipped one privately: a site file with the same id wins, and every
output names the file that was used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from regimens.errors import RequestError
from regimens.protocol.cache import ParseCache
from regimens.protocol.loader import ProtocolFile, load_path

ENV_VAR = "REGIMENS_PROTOCOLS"


def shipped_dir() -> Path:
    """Protocols installed as package data (`regimens/protocols`), or the repo's `protocols/`
    when running from a source checkout (editable installs do not copy package data)."""
    # the package folder itself (what importlib.resources.files gives for a package on disk,
    # without importing its readers and zipfile at every start)
    pkg = Path(__file__).resolve().parents[1] / "protocols"
    if pkg.is_dir():
        return pkg
    return Path(__file__).resolve().parents[3] / "protocols"


@dataclass(frozen=True)
class Catalog:
    site_dir: Path | None = None
    cache: ParseCache | None = None
    """Where validated protocols are kept between runs (protocol/cache.py); None: parse every time."""

    def files(self) -> dict[str, tuple[Path, str]]:
        """protocol id → (path, origin). File stem is the id (checked when loaded)."""
        found: dict[str, tuple[Path, str]] = {}
        for origin, d in (("shipped", shipped_dir()), ("site", self.site_dir)):
            if d is None:
                continue
            if not d.is_dir():
                raise RequestError(f"protocol directory {str(d)!r} does not exist; check --protocols or ${ENV_VAR}")
            here: dict[str, Path] = {}
            for f in sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml")):
                key = f.stem.lower()
                if key in here:
                    # x.yaml and x.yml (or X.yaml) in one folder: which one a run uses must
                    # never depend on the order files are listed in
                    raise RequestError(f"{here[key]} and {f} both give protocol {key!r} in {d}; keep one of them")
                here[key] = f
                found[key] = (f, origin)
        return found

    def ids(self) -> list[str]:
        return sorted(self.files())

    def load(self, ref: str) -> ProtocolFile:
        """Load by id, or by path when `ref` names an existing file."""
        if ref.endswith((".yaml", ".yml")) or os.sep in ref:
            if not ref.lower().endswith((".yaml", ".yml")):
                # a plan's protocol.file or a batch column could name any file: read only ours
                raise RequestError(f"protocol file {ref!r} is not a .yaml or .yml file; give a protocol id"
                                   " or a protocol file")
            if Path(ref).is_file():
                return load_path(ref, "file", self.cache)
            raise RequestError(f"protocol file {ref!r} not found")
        files = self.files()
        key = ref.lower()
        if key not in files:
            raise RequestError(f"unknown protocol {ref!r}; valid ids: {', '.join(sorted(files))}")
        path, origin = files[key]
        pf = load_path(path, origin, self.cache)
        if pf.protocol.id != key:
            raise RequestError(
                f"{path}: file name says {key!r} but the protocol id is {pf.protocol.id!r}; rename one"
            )
        return pf

    def load_all(self) -> list[ProtocolFile]:
        return [self.load(i) for i in self.ids()]


def from_env(option: str | None, environ: dict[str, str], cache_dir: str | Path | None = None) -> Catalog:
    """The catalog a command uses: `option` (--protocols) or $REGIMENS_PROTOCOLS as the site
    folder; validated protocols kept in `cache_dir` when given."""
    value = option or environ.get(ENV_VAR)
    return Catalog(Path(value) if value else None, ParseCache(cache_dir) if cache_dir else None)
