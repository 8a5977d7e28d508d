"""Byte-compile the package before timing it (imported by the bench scripts).

An installed package has its .pyc files (pip writes them at install time). A source checkout
run with PYTHONDONTWRITEBYTECODE set (as some developer and CI shells are) compiles every module
from source at every start, which made start-up look 0.3-0.5 s slower than any user sees.
"""

from __future__ import annotations

import compileall
from pathlib import Path


def compile_tree(src: str | Path | None = None) -> Path:
    """Write the .pyc files of `src` (a directory holding `regimens/`; default: the package that
    imports here) and return the package directory."""
    if src is None:
        import regimens

        pkg = Path(regimens.__file__).resolve().parent
    else:
        pkg = Path(src).resolve() / "regimens"
    compileall.compile_dir(str(pkg), quiet=1)
    return pkg
