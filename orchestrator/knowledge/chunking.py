"""Splitting documents into chunks of about `size` characters on paragraph, line and sentence boundaries,
each chunk repeating the end of the previous one (`overlap`) so that a passage cut in two is found whole."""

from __future__ import annotations

import re

_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"), re.compile(r"\s+"))


def chunk(text: str, size: int, overlap: int) -> list[str]:
    text = text.strip()
    if len(text) <= size:
        return [text] if text else []
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            end = _break_before(text, start + size // 2, end)
        piece = text[start:end].strip()
        if piece:
            chunks.append(piece)
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
        # Begin the next chunk at a word boundary rather than mid-word.
        while 0 < start < end and not text[start - 1].isspace():
            start += 1
    return chunks


def _break_before(text: str, earliest: int, latest: int) -> int:
    """The last natural break between earliest and latest (paragraph, then line, sentence, word)."""
    window = text[earliest:latest]
    for pattern in _BREAKS:
        matches = list(pattern.finditer(window))
        if matches:
            return earliest + matches[-1].end()
    return latest
