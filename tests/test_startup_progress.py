"""A long start shows what it is doing on a terminal, and prints nothing extra anywhere else."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import threading
import time
from pathlib import Path

from orchestrator.startup import StartupProgress
from tests.helpers import ServerProcess


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _read_all(fd: int, into: bytearray, stop: threading.Event) -> None:
    """Drain the terminal as a person's screen would (a full pty would block the server)."""
    while not stop.is_set():
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the last writer closed the terminal
            return
        if not chunk:
            return
        into.extend(chunk)


def test_a_serve_start_on_a_terminal_shows_each_step_with_its_time(tmp_path: Path) -> None:
    primary, replica = pty.openpty()
    screen, stop = bytearray(), threading.Event()
    reader = threading.Thread(target=_read_all, args=(primary, screen, stop), daemon=True)
    reader.start()
    server = ServerProcess({}, tmp_path, stderr=replica)  # the embedded model, as `make run`
    try:
        os.close(replica)
        time.sleep(0.2)  # the last step's line is written before the port is printed; let the reader catch up
        shown = screen.decode(errors="replace")
    finally:
        code = server.stop()
        stop.set()
        os.close(primary)

    assert code == 0
    steps = re.findall(r"✓ ([^(\r\n]+) \((\d+\.\d) s\)", shown)
    names = [name for name, _ in steps]
    assert names[0] == "loading the embedded model"
    assert "loading prompt templates" in names


def test_a_serve_start_into_a_file_prints_no_progress(tmp_path: Path) -> None:
    server = ServerProcess({}, tmp_path)
    code = server.stop()

    assert code == 0
    assert "✓" not in server.stderr_text()
    assert "loading the embedded model" not in server.stderr_text()


def test_a_slow_step_redraws_a_live_line_then_ends_with_a_tick() -> None:
    screen = _Terminal()
    progress = StartupProgress()
    assert progress.attach(screen)

    with progress.step("loading something big"):
        time.sleep(1.0)

    lines = screen.getvalue().split("\r\x1b[K")
    live = [line for line in lines if line.startswith(("⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"))]
    assert live and all("loading something big…" in line for line in live)
    assert re.fullmatch(r"✓ loading something big \(1\.\d s\)\n", lines[-1])


def test_a_failed_step_is_marked_and_the_error_goes_on() -> None:
    screen = _Terminal()
    progress = StartupProgress()
    progress.attach(screen)

    try:
        with progress.step("opening the store"):
            raise ConnectionRefusedError("no database")
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("the step swallowed the error")

    assert screen.getvalue().endswith("✗ opening the store (0.0 s)\n")


def test_nothing_is_drawn_when_the_stream_is_not_a_terminal() -> None:
    log = io.StringIO()
    progress = StartupProgress()

    assert not progress.attach(log)
    with progress.step("loading the embedded model"):
        pass

    assert log.getvalue() == ""


def test_a_log_line_during_a_step_starts_on_a_line_of_its_own() -> None:
    screen = _Terminal()
    handler = logging.StreamHandler(screen)
    logging.getLogger().addHandler(handler)
    progress = StartupProgress()
    progress.attach(screen)
    try:
        with progress.step("loading the embedded model"):
            time.sleep(0.5)  # the live line is on screen
            logging.getLogger("orchestrator.test").warning("embedded model loaded")
    finally:
        progress.detach()
        logging.getLogger().removeHandler(handler)

    before_log = screen.getvalue().split("embedded model loaded\n")[0]
    assert before_log.endswith("\r\x1b[K")  # the live line was cleared first
    assert handler.filters == []  # detached: later logging is left alone
