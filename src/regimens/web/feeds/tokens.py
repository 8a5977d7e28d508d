"""Feed tokens: 256 random bits, URL-safe; only the SHA-256 is stored, so a copy of the database
gives nobody a working feed link."""

from __future__ import annotations

import hashlib
import re
import secrets

_SHAPE = re.compile(r"^[A-Za-z0-9_-]{40,64}$")


def new_token() -> tuple[str, str]:
    """(token, its hash)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def well_formed(token: str) -> bool:
    return bool(_SHAPE.match(token))
