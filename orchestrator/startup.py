"""What a long start is doing, shown to a person at a terminal instead of silence.

Loading the embedded model, the tokenizer files or the semantic cache's model can take seconds. On a
terminal each step shows a live line with its elapsed time, then a tick and how long it took. Anywhere
else (a pipe, a container's log collector) nothing is printed: the structured log lines say enough.
The live line is redrawn by a thread, because some steps block the event loop while they load.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_CLEAR_LINE = "\r\x1b[K"
_REDRAW_SECONDS = 0.1
# The live line appears only for a step that makes a person wait; every step gets its tick line.
_SHOW_AFTER_SECONDS = 0.2


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


class StartupProgress:
    """Steps of the start, drawn on `stream` when attached to a terminal; a no-op otherwise."""

    def __init__(self) -> None:
        self._stream: TextIO | None = None
        self._lock = threading.Lock()
        self._live = False  # a live line is on screen, with no newline after it yet
        self._log_filter = _ClearBeforeLogging(self)

    def attach(self, stream: TextIO | None = None) -> bool:
        """Draw on `stream` (default stderr) if it is a terminal; returns whether it will draw."""
        stream = stream if stream is not None else sys.stderr
        self._stream = stream if is_terminal(stream) else None
        if self._stream is not None:
            for handler in logging.getLogger().handlers:
                handler.addFilter(self._log_filter)
        return self._stream is not None

    def detach(self) -> None:
        self._stream = None
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self._log_filter)

    def clear_live_line(self) -> None:
        """Make room for a log line: it must not land at the end of the live line."""
        stream = self._stream
        if stream is not None and self._live:
            self._write(stream, _CLEAR_LINE, live=False)

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        stream = self._stream
        if stream is None:
            yield
            return
        started = time.monotonic()
        finished = threading.Event()
        ticker = threading.Thread(target=self._redraw, args=(stream, label, started, finished), daemon=True)
        ticker.start()
        mark = "✗"
        try:
            yield
            mark = "✓"
        finally:
            finished.set()
            ticker.join()
            self._write(stream, f"{_CLEAR_LINE}{mark} {label} ({time.monotonic() - started:.1f} s)\n", live=False)

    def _redraw(self, stream: TextIO, label: str, started: float, finished: threading.Event) -> None:
        frame = 0
        wait = _SHOW_AFTER_SECONDS
        while not finished.wait(wait):
            elapsed = time.monotonic() - started
            self._write(stream, f"{_CLEAR_LINE}{_SPINNER[frame % len(_SPINNER)]} {label}… {elapsed:.1f} s", live=True)
            frame += 1
            wait = _REDRAW_SECONDS

    def _write(self, stream: TextIO, text: str, live: bool) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            stream.write(text)
            stream.flush()
            self._live = live


class _ClearBeforeLogging(logging.Filter):
    """Runs just before a handler writes a record: clears the live line so the record starts a fresh line."""

    def __init__(self, progress: StartupProgress) -> None:
        super().__init__()
        self._progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self._progress.clear_live_line()
        return True


STARTUP = StartupProgress()
