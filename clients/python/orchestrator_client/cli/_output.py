"""What people and scripts see: tables, colour only on a terminal, errors as one line, JSON with --json."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from google.protobuf import json_format
from google.protobuf.message import Message

from orchestrator_client import ErrorDetails

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class UsageError(Exception):
    """A command line that cannot be used (an unreadable file, a malformed --var): exit status 2."""


def message_dict(message: Message) -> dict[str, Any]:
    """A message as JSON-ready data: proto field names, zero values included (scripts need no defaults)."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


class Output:
    def __init__(self, json_mode: bool = False, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        no_colour = "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb"
        self._colour = {
            id(self.stdout): not no_colour and self.stdout.isatty(),
            id(self.stderr): not no_colour and self.stderr.isatty(),
        }

    def style(self, text: str, *styles: str, stream: TextIO | None = None) -> str:
        if not self._colour[id(stream or self.stdout)] or not styles:
            return text
        return f"\033[{';'.join(_CODES[s] for s in styles)}m{text}\033[0m"

    def print(self, text: str = "", end: str = "\n") -> None:
        self.stdout.write(text + end)
        self.stdout.flush()

    def note(self, text: str) -> None:
        """A side remark for people (usage, cost): stderr, so stdout stays the answer alone."""
        self.stderr.write(self.style(text, "dim", stream=self.stderr) + "\n")

    def json(self, data: Any) -> None:
        self.print(json.dumps(data, ensure_ascii=False))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

        self.print(self.style(line(headers), "bold"))
        for row in rows:
            self.print(line(row))

    def error(self, details: ErrorDetails) -> None:
        """One line: the code, the reason, the message, the bad fields and when to retry."""
        if self.json_mode:
            error = {
                "code": details.code_name,
                "reason": details.reason,
                "message": details.message,
                "field_violations": details.field_violations,
                "retry_delay_seconds": details.retry_delay,
            }
            self.stderr.write(json.dumps({"error": error}, ensure_ascii=False) + "\n")
            return
        parts = [self.style("error:", "bold", "red", stream=self.stderr), details.code_name]
        if details.reason and details.reason != details.code_name:
            parts.append(details.reason)
        line = " ".join(parts) + f": {' '.join(details.message.split())}"
        if details.field_violations:
            line += " [" + "; ".join(f"{f}: {d}" for f, d in details.field_violations.items()) + "]"
        if details.retry_delay is not None:
            line += f" (retry in {details.retry_delay:g}s)"
        self.stderr.write(line + "\n")
