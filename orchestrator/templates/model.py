"""The prompt template as the pipeline sees it (the seed's PromptTemplate, plus schema, time and etag)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from orchestrator.errors import FieldViolation, Reason, clip, invalid_fields

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


@dataclass(frozen=True, slots=True)
class TemplateMetadata:
    description: str = ""
    use_cases: tuple[str, ...] = ()
    recommended_models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    template_id: str
    version: str
    system_message: str
    user_message_template: str
    required_variables: tuple[str, ...] = ()
    optional_variables: dict[str, Any] = field(default_factory=dict)
    metadata: TemplateMetadata = TemplateMetadata()
    variables_schema: dict[str, Any] | None = None
    create_time: datetime | None = None
    etag: str = ""
    # The service that created this version ("" for templates shipped with the server); not content.
    owner: str = ""

    def content_key(self) -> str:
        """Hash of everything a caller authored (not the version, time or etag)."""
        content = {
            "system_message": self.system_message,
            "user_message_template": self.user_message_template,
            "required_variables": list(self.required_variables),
            "optional_variables": self.optional_variables,
            "metadata": [
                self.metadata.description,
                self.metadata.use_cases,
                self.metadata.recommended_models,
            ],
            "variables_schema": self.variables_schema,
        }
        encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]

    def stamped(self, version: str, now: datetime | None = None) -> PromptTemplate:
        """This template as stored: with its version, creation time and etag."""
        return replace(self, version=version, create_time=now or datetime.now(UTC), etag=self.content_key())


def validate_template(template: PromptTemplate, field_prefix: str = "template") -> None:
    """Reject a template whose names or variable lists are malformed (all problems at once)."""
    problems: list[FieldViolation] = []
    if not _NAME.match(template.template_id):
        problems.append(
            FieldViolation(
                f"{field_prefix}.template_id",
                "must be 1-128 characters: letters, digits, '_', '-', '.', starting with a letter or digit",
            )
        )
    if template.version and not _NAME.match(template.version):
        problems.append(
            FieldViolation(f"{field_prefix}.version", "must be 1-128 characters: letters, digits, '_', '-', '.'")
        )
    if not template.user_message_template.strip():
        problems.append(FieldViolation(f"{field_prefix}.user_message_template", "must not be empty"))
    for name in template.required_variables:
        if not name.isidentifier():
            problems.append(
                FieldViolation(f"{field_prefix}.required_variables", f"{clip(name)!r} is not a valid variable name")
            )
        if name in template.optional_variables:
            problems.append(
                FieldViolation(f"{field_prefix}.optional_variables", f"{clip(name)!r} is also a required variable")
            )
    if problems:
        raise invalid_fields("the template is invalid", problems, reason=Reason.INVALID_TEMPLATE)


def valid_name(value: str) -> bool:
    return bool(_NAME.match(value))
