"""Token pieces to text for one sequence: UTF-8 split across tokens, and stop strings.

Text that could still turn out to be the start of a stop string is held back until it cannot; a stop string
ends the answer and is never sent (as llama-cpp-python's create_completion does).
"""

from __future__ import annotations

import codecs


class TextStream:
    def __init__(self, stops: tuple[str, ...]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""

    def push(self, piece: bytes) -> tuple[str, bool]:
        """The text that may be sent now, and whether a stop string was reached (nothing follows it)."""
        text = self._held + self._decoder.decode(piece)
        if not self._stops:
            self._held = ""
            return text, False
        cut = min((i for i in (text.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self._held = ""
            return text[:cut], True
        keep = self._partial_stop(text)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep], False

    def flush(self) -> str:
        """What is left when the answer ends without a stop string (EOS or the token budget)."""
        text, self._held = self._held + self._decoder.decode(b"", final=True), ""
        return text

    def _partial_stop(self, text: str) -> int:
        """The length of the longest tail of `text` that begins some stop string."""
        best = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(text)), best, -1):
                if text.endswith(stop[:size]):
                    best = size
                    break
        return best
