"""Validators: checks a task type applies to every answer after its format and JSON Schema checks.

Each validator is built once from configuration (`tasks.<t>.validators`); a bad one (unknown entry point,
a pattern RE2 cannot compile, options a custom factory refuses) is a ValidatorError that the runtime step
turns into a configuration error naming the path. A check returns None when the answer passes, else what
is wrong with it: the acceptance check rejects the answer with that message, and the router re-asks the
same model with it (bounded by `routing.schema_reasks`) before falling back.

Regular expressions run on RE2 (google-re2), whose matching time is linear in the text: no pattern an
operator writes, however hostile (`(a+)+$`), can stall the event loop by backtracking.

Custom validators are Python entry points in the group `orchestrator.validators`. The entry point is a
factory called once with the validator's `options` mapping; it returns the check, a callable taking the
answer (`text`, `code`, `structured`, `has_structured`) and returning None or a problem. The check's
docstring (first line) describes it in RenderTemplate. A factory raising ValueError or TypeError rejects its
options; a check that raises rejects the answer (and is logged with its traceback).
"""

from __future__ import annotations

import ast
import json
import logging
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

import re2
import yaml

from orchestrator.evaluation.extraction import NO_VALUE, extract_code, extract_json

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "orchestrator.validators"
# A refusal opens the answer; phrases further in are more likely quotes or code comments.
REFUSAL_WINDOW = 400
DEFAULT_REFUSAL_PHRASES = (
    "i'm sorry, but i can't",
    "i am sorry, but i cannot",
    "i can't help with",
    "i cannot help with",
    "i can't assist with",
    "i cannot assist with",
    "i'm unable to help",
    "i am unable to help",
    "i won't be able to help",
    "as an ai language model",
)
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a rejected pattern is reported as a configuration error, not on stderr


class AnswerView(Protocol):
    """What a check sees of an answer (orchestrator.pipeline.shaping.ShapedAnswer)."""

    @property
    def text(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def structured(self) -> Any: ...
    @property
    def has_structured(self) -> bool: ...


# None: the answer passes; otherwise what is wrong with it (told to the model when it is re-asked).
Check = Callable[[AnswerView], str | None]


class ValidatorError(ValueError):
    """A validator's configuration cannot be used; `field` is the setting at fault (e.g. "pattern")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Validator:
    name: str  # in attempts, metrics, errors and RenderTemplate
    kind: str  # the configured type
    description: str  # what it requires, for RenderTemplate
    check: Check
    message: str = ""  # the configured message replacing the check's own

    def problem(self, answer: AnswerView) -> str | None:
        """What is wrong with the answer, or None. A custom check that raises rejects the answer."""
        try:
            found = self.check(answer)
        except Exception as exc:  # a custom validator's bug must not turn into an INTERNAL for the caller
            log.exception("validator %s raised", self.name)
            found = f"validator {self.name} could not check the answer ({type(exc).__name__})"
        if found is None:
            return None
        return self.message or found


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compile(pattern: str | None) -> Any:
    if not pattern:
        raise ValidatorError("pattern", "required: a regular expression (RE2 syntax)")
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        detail = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        raise ValidatorError("pattern", f"not a valid RE2 regular expression: {detail}") from None


def _chars(params: Mapping[str, Any]) -> int:
    value = params.get("value")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidatorError("value", "required: a number of characters (0 or more)")
    return value


def _max_chars(params: Mapping[str, Any]) -> tuple[Check, str]:
    limit = _chars(params)

    def check(answer: AnswerView) -> str | None:
        n = len(answer.text)
        return f"the answer has {n} characters; at most {limit} are allowed" if n > limit else None

    return check, f"at most {limit} characters"


def _min_chars(params: Mapping[str, Any]) -> tuple[Check, str]:
    limit = _chars(params)

    def check(answer: AnswerView) -> str | None:
        n = len(answer.text.strip())
        return f"the answer has {n} characters; at least {limit} are required" if n < limit else None

    return check, f"at least {limit} characters"


def _must_match(params: Mapping[str, Any]) -> tuple[Check, str]:
    pattern = params.get("pattern")
    compiled = _compile(pattern)

    def check(answer: AnswerView) -> str | None:
        if compiled.search(answer.text) is None:
            return f"the answer does not match the required pattern {pattern}"
        return None

    return check, f"matches {pattern}"


def _must_not_match(params: Mapping[str, Any]) -> tuple[Check, str]:
    pattern = params.get("pattern")
    compiled = _compile(pattern)

    def check(answer: AnswerView) -> str | None:
        found = compiled.search(answer.text)
        if found is not None:
            return f"the answer contains {_clip(found.group(0))!r}, which matches the forbidden pattern {pattern}"
        return None

    return check, f"does not match {pattern}"


def _json_keys_required(params: Mapping[str, Any]) -> tuple[Check, str]:
    keys = tuple(params.get("keys") or ())
    if not keys:
        raise ValidatorError("keys", "required: the keys the answer's JSON object must have")

    def check(answer: AnswerView) -> str | None:
        value = answer.structured if answer.has_structured else extract_json(answer.text)
        if value is NO_VALUE or not isinstance(value, dict):
            return "the answer holds no JSON object"
        missing = [key for key in keys if key not in value]
        return f"the JSON object lacks the required keys: {', '.join(missing)}" if missing else None

    return check, f"a JSON object with the keys {', '.join(keys)}"


def _python(code: str) -> None:
    ast.parse(code)


def _yaml(code: str) -> None:
    for _ in yaml.safe_load_all(code):
        pass


# Parsers at hand without extra dependencies; each raises on code that does not parse.
PARSERS: dict[str, Callable[[str], object]] = {
    "python": _python,
    "json": json.loads,
    "yaml": _yaml,
    "toml": tomllib.loads,
}
# Deeply nested input makes recursive parsers give up with RecursionError or MemoryError: it does not parse.
_PARSE_ERRORS = (SyntaxError, ValueError, yaml.YAMLError, RecursionError, MemoryError)


def _parse_problem(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    if isinstance(exc, RecursionError | MemoryError):
        return "nested too deeply"
    return _clip(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200)


def _code_parses(params: Mapping[str, Any]) -> tuple[Check, str]:
    language = params.get("language")
    if language not in PARSERS:
        raise ValidatorError("language", f"one of {', '.join(PARSERS)}")
    parse = PARSERS[language]

    def check(answer: AnswerView) -> str | None:
        # The extracted code for CODE output; otherwise the answer's fenced block, else the whole text.
        code = answer.code or extract_code(answer.text, language)
        try:
            parse(answer.text if code is None else code)
        except _PARSE_ERRORS as exc:
            return f"the {language} code does not parse: {_parse_problem(exc)}"
        return None

    return check, f"{language} code that parses"


def _normalized(text: str) -> str:
    return text.casefold().replace("\u2019", "'")


def _no_refusal(params: Mapping[str, Any]) -> tuple[Check, str]:
    phrases = tuple(_normalized(p) for p in (params.get("phrases") or DEFAULT_REFUSAL_PHRASES))
    if not all(phrases):
        raise ValidatorError("phrases", "phrases must not be empty")

    def check(answer: AnswerView) -> str | None:
        opening = _normalized(answer.text[:REFUSAL_WINDOW])
        for phrase in phrases:
            if phrase in opening:
                return f"the answer reads as a refusal ({phrase!r}); answer the request itself"
        return None

    return check, f"not a refusal ({len(phrases)} phrases)"


def _custom(params: Mapping[str, Any]) -> tuple[Check, str]:
    name = params.get("entry_point")
    if not name:
        raise ValidatorError("entry_point", f"required: the name of an entry point in group {ENTRY_POINT_GROUP}")
    found = metadata.entry_points(group=ENTRY_POINT_GROUP, name=name)
    if not found:
        installed = sorted({ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)})
        raise ValidatorError(
            "entry_point",
            f"no entry point {name!r} in group {ENTRY_POINT_GROUP} (installed: {', '.join(installed) or 'none'})",
        )
    entry = next(iter(found))
    try:
        factory = entry.load()
    except Exception as exc:
        raise ValidatorError("entry_point", f"cannot load {entry.value}: {type(exc).__name__}: {exc}") from None
    try:
        check = factory(dict(params.get("options") or {}))
    except (ValueError, TypeError) as exc:
        raise ValidatorError("options", f"{name} refused its options: {exc}") from None
    if not callable(check):
        raise ValidatorError("entry_point", f"{entry.value} returned {type(check).__name__}, not a check (a callable)")
    doc = (getattr(check, "__doc__", None) or "").strip()
    return check, doc.splitlines()[0] if doc else f"custom validator {name}"


BUILDERS: dict[str, Callable[[Mapping[str, Any]], tuple[Check, str]]] = {
    "max_chars": _max_chars,
    "min_chars": _min_chars,
    "must_match": _must_match,
    "must_not_match": _must_not_match,
    "json_keys_required": _json_keys_required,
    "code_parses": _code_parses,
    "no_refusal": _no_refusal,
    "custom": _custom,
}


def build_validator(kind: str, params: Mapping[str, Any], name: str = "", message: str = "") -> Validator:
    """A ready validator of type `kind`; ValidatorError (with the field at fault) when it cannot be built."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ValidatorError("type", f"unknown validator type {kind!r} (one of {', '.join(BUILDERS)})")
    check, description = builder(params)
    default_name = str(params.get("entry_point")) if kind == "custom" else kind
    return Validator(name or default_name, kind, description, check, message)
