"""Log lines: JSON with an ISO 8601 UTC time to the millisecond, the record's extra fields, secrets removed."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.logs import JsonFormatter


def record(created: float, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("orchestrator.requests", logging.INFO, "", 0, "generation", None, None)
    made.created = created
    made.__dict__.update(extra)
    return made


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))  # 1970 to 2100
def test_the_time_reads_as_datetime_would_write_it(created: float) -> None:
    line = json.loads(JsonFormatter().format(record(created)))

    assert line["time"] == datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


def test_extra_fields_are_in_the_line_and_keys_are_not() -> None:
    line = json.loads(
        JsonFormatter().format(record(1.5, service="rd", latency_ms=1.25, detail="authorization: Bearer abcdefgh1234"))
    )

    assert line["service"] == "rd" and line["latency_ms"] == 1.25 and line["message"] == "generation"
    assert "abcdefgh1234" not in line["detail"]
