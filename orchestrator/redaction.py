"""Removes secrets from any text that leaves the process (error details, logs, span attributes)."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"
# Shapes of credentials even when we were not told the exact value.
_PATTERNS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|\b(sk|ak|pk|rk)-[A-Za-z0-9_-]{8,}"
    r"|(x-api-key|api[_-]?key|authorization)(\"?\s*[:=]\s*\"?)(?:bearer\s+)?[^\s\",}]{6,}"
)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        lowered = text.lower()
        # Cheap substring checks first: most text carries none of the shapes the patterns look for.
        if any(marker in lowered for marker in _MARKERS):
            return _PATTERNS.sub(_mask, text)
        return text


_MARKERS = ("bearer", "sk-", "ak-", "pk-", "rk-", "api_key", "api-key", "apikey", "x-api-key", "authorization")


def _mask(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1) + REDACTED
    if match.group(3):
        return match.group(3) + match.group(4) + REDACTED
    return REDACTED


SECRETS = Redactor()
"""The process-wide redactor; providers register their keys at construction."""
