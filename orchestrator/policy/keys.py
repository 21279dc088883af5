"""Service keys: random, shown once, stored only as SHA-256 hex digests."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "orc_"


def new_key() -> str:
    """A fresh key: 32 random bytes, URL-safe, with a prefix that secret scanners and people recognise."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def config_line(service: str, key: str) -> str:
    """What to paste under `auth.services` for the key."""
    return f'- {{name: {service}, key_sha256: "{digest(key)}"}}'
