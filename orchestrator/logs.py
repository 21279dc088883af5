"""Structured (JSON) log lines on stderr."""

from __future__ import annotations

import json
import logging
import sys
import time

from orchestrator.redaction import SECRETS

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
# json.dumps(default=...) builds an encoder per call; one line per request is worth keeping one.
_ENCODE = json.JSONEncoder(default=str).encode


def _utc_time(created: float, _cache: dict[int, str] = {}) -> str:  # noqa: B006 - the per-second cache
    """ISO 8601 UTC with milliseconds, as datetime.isoformat gives it, the seconds formatted once per second."""
    second = int(created)
    micros = round((created - second) * 1e6)  # as datetime rounds it, then milliseconds truncated
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    prefix = _cache.get(second)
    if prefix is None:
        _cache.clear()
        prefix = _cache[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{prefix}.{micros // 1000:03d}+00:00"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": _utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # Last line of defence: no key or auth header leaves the process in a log line.
        return SECRETS(_ENCODE(line))


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
