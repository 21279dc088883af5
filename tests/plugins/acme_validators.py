"""A team's own validator, shipped as a distribution with an entry point in the `orchestrator.validators` group
(tests/plugins/acme_validators-1.0.dist-info), as a team would `pip install` it next to the server."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def banned_words(options: Mapping[str, Any]) -> Callable[[Any], str | None]:
    """Factory: `options.words` lists the words no answer may contain (case-insensitive)."""
    words = [str(w).lower() for w in options.get("words", [])]
    if not words:
        raise ValueError("options.words: give at least one word")

    def check(answer: Any) -> str | None:
        """Uses none of the banned words."""
        text = answer.text.lower()
        used = [w for w in words if w in text]
        return f"the answer uses banned words: {', '.join(used)}" if used else None

    return check


def broken(options: Mapping[str, Any]) -> Callable[[Any], str | None]:
    """Factory of a check with a bug: it raises on every answer."""

    def check(answer: Any) -> str | None:
        raise KeyError("a bug in the team's validator")

    return check
