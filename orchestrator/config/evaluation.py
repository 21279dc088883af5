"""Checked answers and prompt experiments: `tasks.<t>.validators` and `tasks.<t>.template_variants`.

Shapes only; whether a pattern compiles or an entry point exists is checked when the runtime is built
(orchestrator.runtime), which check-config runs too.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from orchestrator.config.base import Strict

ValidatorType = Literal[
    "max_chars",
    "min_chars",
    "must_match",
    "must_not_match",
    "json_keys_required",
    "code_parses",
    "no_refusal",
    "custom",
]
# The settings each type uses; any other is an error (a typo must not silently disable a check).
_FIELDS: dict[str, frozenset[str]] = {
    "max_chars": frozenset({"value"}),
    "min_chars": frozenset({"value"}),
    "must_match": frozenset({"pattern"}),
    "must_not_match": frozenset({"pattern"}),
    "json_keys_required": frozenset({"keys"}),
    "code_parses": frozenset({"language"}),
    "no_refusal": frozenset({"phrases"}),
    "custom": frozenset({"entry_point", "options"}),
}
_REQUIRED = {"max_chars": "value", "min_chars": "value", "must_match": "pattern", "must_not_match": "pattern",
             "json_keys_required": "keys", "code_parses": "language", "custom": "entry_point"}  # fmt: skip
NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ValidatorSettings(Strict):
    """One check on every answer of the task, e.g. `{type: max_chars, value: 4000}`."""

    type: ValidatorType
    # How attempts, metrics and errors name it; default: the type (custom: the entry point's name).
    name: str | None = None
    # Told to the model when its answer fails (default: the validator's own description of the problem).
    message: str | None = Field(None, min_length=1, max_length=2000)
    value: int | None = Field(None, ge=0)  # max_chars, min_chars
    pattern: str | None = Field(None, min_length=1, max_length=4096)  # must_match, must_not_match (RE2 syntax)
    keys: tuple[str, ...] | None = None  # json_keys_required: top-level keys of the answer's JSON object
    language: Literal["python", "json", "yaml", "toml"] | None = None  # code_parses
    phrases: tuple[str, ...] | None = None  # no_refusal (default: a list of common refusals)
    entry_point: str | None = Field(None, min_length=1)  # custom: a name in the `orchestrator.validators` group
    options: dict[str, Any] | None = None  # custom: passed to the entry point's factory

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        if value is not None and not NAME.match(value):
            raise ValueError("1-64 characters of letters, digits, '_', '.', ':' or '-'")
        return value

    @model_validator(mode="after")
    def _fields_fit_type(self) -> ValidatorSettings:
        given = {f for f in ("value", "pattern", "keys", "language", "phrases", "entry_point", "options")
                 if getattr(self, f) is not None}  # fmt: skip
        stray = sorted(given - _FIELDS[self.type])
        if stray:
            raise ValueError(f"{', '.join(stray)} does not apply to type {self.type}")
        required = _REQUIRED.get(self.type)
        if required and required not in given:
            raise ValueError(f"type {self.type} needs {required}")
        return self

    @property
    def default_name(self) -> str:
        return self.name or (self.entry_point if self.type == "custom" and self.entry_point else self.type)


class TemplateVariantSettings(Strict):
    """A template version under test and its share of the task's traffic (weights need not sum to 1)."""

    version: str = Field(min_length=1, max_length=64)
    weight: float = Field(gt=0)

    @field_validator("version", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        # `version: 3` in YAML is a number; template versions are text ("3").
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def check_validators(validators: tuple[ValidatorSettings, ...]) -> tuple[ValidatorSettings, ...]:
    seen: dict[str, int] = {}
    for i, validator in enumerate(validators):
        name = validator.default_name
        if name in seen:
            raise ValueError(f"[{seen[name]}] and [{i}] are both named {name!r}; give one of them another `name`")
        seen[name] = i
    return validators


def check_variants(variants: tuple[TemplateVariantSettings, ...]) -> tuple[TemplateVariantSettings, ...]:
    versions = [v.version for v in variants]
    twice = sorted({v for v in versions if versions.count(v) > 1})
    if twice:
        raise ValueError(f"version {twice[0]!r} is listed twice")
    return variants
