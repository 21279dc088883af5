"""Structured (JSON) log lines on stderr."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from orchestrator.redaction import SECRETS

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # Last line of defence: no key or auth header leaves the process in a log line.
        return SECRETS(json.dumps(line, default=str))


class _WorkerField(logging.Filter):
    """Every line of a worker process says which worker wrote it (`"worker": 0`, ...)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self._index = index

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self._index
        return True


def configure(level: str, worker: int | None = None) -> None:
    # Per the logging HOWTO's optimisation notes: skip caller, thread and process look-ups we never print.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    if worker is not None:
        handler.addFilter(_WorkerField(worker))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
