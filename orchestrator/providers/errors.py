"""Classifying upstream failures once, by HTTP status first, for every adapter."""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import Callable, Iterator, Mapping

from orchestrator.providers.base import ProviderError, ProviderErrorKind
from orchestrator.redaction import SECRETS

_BY_STATUS: dict[int, ProviderErrorKind] = {
    400: ProviderErrorKind.INVALID_REQUEST,
    401: ProviderErrorKind.AUTHENTICATION,
    402: ProviderErrorKind.AUTHENTICATION,  # billing: the operator's problem, like a bad key
    403: ProviderErrorKind.AUTHENTICATION,
    404: ProviderErrorKind.MODEL_NOT_FOUND,
    408: ProviderErrorKind.TIMEOUT,
    409: ProviderErrorKind.UNAVAILABLE,
    413: ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED,
    422: ProviderErrorKind.INVALID_REQUEST,
    429: ProviderErrorKind.RATE_LIMITED,
}
_BY_CODE: dict[str, ProviderErrorKind] = {
    "context_length_exceeded": ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED,
    "string_above_max_length": ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED,
    "content_filter": ProviderErrorKind.CONTENT_FILTERED,
    "content_policy_violation": ProviderErrorKind.CONTENT_FILTERED,
    "rate_limit_error": ProviderErrorKind.RATE_LIMITED,
    "overloaded_error": ProviderErrorKind.UNAVAILABLE,
    "insufficient_quota": ProviderErrorKind.AUTHENTICATION,
}


def kind_for(status: int, code: str | None) -> ProviderErrorKind:
    """Status decides the class; a machine-readable error code may refine a 4xx."""
    if status >= 500:
        return ProviderErrorKind.UNAVAILABLE  # includes Anthropic's 529 overloaded
    kind = _BY_STATUS.get(status, ProviderErrorKind.INVALID_REQUEST)
    if code and code in _BY_CODE and kind in (ProviderErrorKind.INVALID_REQUEST, ProviderErrorKind.RATE_LIMITED):
        return _BY_CODE[code]
    return kind


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


def status_error(
    provider: str, status: int, code: str | None, message: str, headers: Mapping[str, str]
) -> ProviderError:
    kind = kind_for(status, code)
    return ProviderError(
        kind,
        SECRETS(f"{provider}: HTTP {status}{f' {code}' if code else ''}: {message}"),
        status_code=status,
        retry_after=retry_after(headers) if kind.retryable else None,
    )


def transport_error(provider: str, kind: ProviderErrorKind, what: str, exc: BaseException) -> ProviderError:
    return ProviderError(kind, SECRETS(f"{provider}: {what} ({type(exc).__name__})"))


@contextlib.contextmanager
def mapped_errors(
    provider: str,
    stage: str,
    *,
    timeouts: tuple[type[BaseException], ...] = (),
    connection_errors: tuple[type[BaseException], ...] = (),
    status_errors: tuple[type[Exception], ...] = (),
    from_status: Callable[[Exception], ProviderError] | None = None,
) -> Iterator[None]:
    """Every failure of a call or of the connection under it as one ProviderError (httpx's habit of mapping
    its transport's exceptions in one place), for the SDK and the native transport alike. `stage` is "request"
    or "stream": a connection that fails mid-stream is a malformed (cut) answer, not an unavailable upstream.
    `status_errors` are an SDK's HTTP-status exceptions, classified by `from_status` (the native transport
    raises its ProviderError itself).
    """
    try:
        yield
    except ProviderError:
        raise
    except status_errors as exc:
        assert from_status is not None
        raise from_status(exc) from None
    except (*timeouts, TimeoutError) as exc:
        raise transport_error(provider, ProviderErrorKind.TIMEOUT, f"{stage} timed out", exc) from None
    except connection_errors as exc:
        kind = ProviderErrorKind.UNAVAILABLE if stage == "request" else ProviderErrorKind.MALFORMED_RESPONSE
        raise transport_error(provider, kind, f"{stage}: connection failed", exc) from None
    except Exception as exc:  # a cut connection or an undecodable chunk, whatever the transport raised
        raise transport_error(
            provider, ProviderErrorKind.MALFORMED_RESPONSE, f"{stage}: unexpected response", exc
        ) from None
