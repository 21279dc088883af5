"""Finding code and JSON inside a model's answer: fenced blocks first, then (JSON) the outermost value.

Shared by the acceptance check (orchestrator.pipeline.shaping), which shapes the answer into the requested
format, and by the validators, which look at code or JSON whatever format was requested.
"""

from __future__ import annotations

import json
import re
from typing import Any

# An opening fence (``` or longer, optional info string), its body, and the same fence closing it.
_FENCE = re.compile(r"^(?P<fence>`{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
# What extract_json returns when the text holds no JSON value (None is a JSON value: null).
NO_VALUE: Any = object()


def _blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group("info").strip().split(" ")[0].lower(), m.group("body")) for m in _FENCE.finditer(text)]


def extract_code(text: str, language: str = "") -> str | None:
    """The fenced block in `language` if there is one, else the first fenced block."""
    blocks = _blocks(text)
    if not blocks:
        return None
    wanted = language.lower()
    for info, body in blocks:
        if wanted and info == wanted:
            return body.rstrip("\n")
    return blocks[0][1].rstrip("\n")


def _parse(candidate: str) -> Any:
    try:
        return json.loads(candidate)
    except ValueError:
        return NO_VALUE


def extract_json(text: str) -> Any:
    """A JSON value from a fenced block that parses (json-tagged first), else the outermost object/array;
    NO_VALUE when there is none."""
    blocks = _blocks(text)
    ordered = [b for info, b in blocks if info == "json"] + [b for info, b in blocks if info != "json"]
    for body in ordered:
        value = _parse(body)
        if value is not NO_VALUE and isinstance(value, dict | list):
            return value
    whole = _parse(text.strip())
    if whole is not NO_VALUE:
        return whole
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char in "{[":
            try:
                value, _ = decoder.raw_decode(text, start)
            except ValueError:
                continue
            return value
    return NO_VALUE
