"""What the fake upstream is told to do (Behaviour), what it resolves a success into (Answer), and what it records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Api = Literal["openai", "anthropic"]


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    path: str  # without the query string
    method: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]  # parsed JSON; {} when there was no (valid JSON object) body
    model: str  # body["model"], or "" when absent
    stream: bool  # body["stream"] is truthy
    api: Api
    received_at: float  # time.monotonic()
    query: str = ""


@dataclass
class Behaviour:
    """How to answer one request. The defaults give a well-formed, prompt-echoing success."""

    text: str | None = None  # default: "Hello! You said: <last user message text>"
    chunks: int | None = None  # stream deltas (text split evenly); default one per word, spaces kept
    status: int = 200  # non-200: the API's real error body
    error_type: str | None = None  # OpenAI: the `code` (and the `type` if it is one); Anthropic: error.type
    error_message: str | None = None
    retry_after: float | None = None  # Retry-After header (seconds) on error responses
    delay: float = 0.0  # before the response headers
    chunk_delay: float = 0.0  # before each content delta and before the closing events
    cut_after: int | None = None  # streams: close the connection after N deltas, mid-body
    stall_after: int | None = None  # streams: after N deltas send nothing until the client goes away
    malformed_after: int | None = None  # streams: after N deltas an SSE data line that is not JSON, then end
    # streams: after N deltas the API's error event (error_type / error_message in a 500's error body), then end
    error_event_after: int | None = None
    wait_after: int | None = None  # streams: after N deltas wait for `FakeUpstream.release()` (unless released)
    omit_usage: bool = False  # OpenAI: no usage at all (like llama.cpp's server); ignored for Anthropic
    finish_reason: str = "stop"  # either API's vocabulary; translated for the other one
    prompt_tokens: int | None = None  # default: words in all messages (+ system) + 3 per message
    completion_tokens: int | None = None  # default: number of deltas
    cached_tokens: int = 0
    fail_ratio: float = 0.0  # 0 (or >= 1): faults always apply; else only on this fraction, drawn from the seed
    echo_auth_in_error: bool = False  # put the received Authorization / x-api-key value into the error message

    @property
    def faulty(self) -> bool:
        faults = (self.cut_after, self.stall_after, self.malformed_after, self.error_event_after)
        return self.status != 200 or any(f is not None for f in faults)


@dataclass(frozen=True)
class Answer:
    """A successful answer, resolved from a Behaviour and a request; what the wire modules render."""

    id: str
    model: str
    created: int
    deltas: list[str]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    include_usage: bool  # the request asked for stream_options.include_usage
    omit_usage: bool


class Wire(Protocol):
    MALFORMED: bytes

    def parse_prompt(self, body: dict[str, Any]) -> tuple[str, int]: ...
    def stream_prelude(self, answer: Answer) -> list[bytes]: ...
    def stream_delta(self, answer: Answer, text: str) -> bytes: ...
    def stream_epilogue(self, answer: Answer) -> list[bytes]: ...
    def stream_error(self, body: dict[str, Any]) -> bytes: ...
    def error_body(self, status: int, error_type: str | None, message: str | None) -> dict[str, Any]: ...
    def not_found_message(self, method: str, path: str) -> str: ...
    def models(self, names: list[str], created: int) -> dict[str, Any]: ...


def split_text(text: str, chunks: int | None) -> list[str]:
    """One delta per word (whitespace kept with the word before it), or `chunks` even slices."""
    if chunks is None:
        return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
    n = max(1, chunks)
    return [text[i * len(text) // n : (i + 1) * len(text) // n] for i in range(n)]
