"""What the SQL stores share: how a template version is encoded as a row.

A stored version is a row of (template_id, version, etag, create_time, use_cases, body). `body` is the
authored content as JSON text, so optional variables, metadata and schema come back exactly as given
(jsonb would renumber large floats and reject NaN and "\\u0000"). `use_cases` is a search key: each use
case JSON-encoded on its own line, so one exact `instr`/`strpos` finds a use case whatever it contains.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from orchestrator.templates.model import PromptTemplate, TemplateMetadata


def encode_body(template: PromptTemplate) -> str:
    content = {
        "system_message": template.system_message,
        "user_message_template": template.user_message_template,
        "required_variables": list(template.required_variables),
        "optional_variables": template.optional_variables,
        "metadata": {
            "description": template.metadata.description,
            "use_cases": list(template.metadata.use_cases),
            "recommended_models": list(template.metadata.recommended_models),
        },
        "variables_schema": template.variables_schema,
        "owner": template.owner,
    }
    return json.dumps(content, separators=(",", ":"), default=str)


def use_cases_key(use_cases: tuple[str, ...]) -> str:
    return "\n" + "".join(json.dumps(u) + "\n" for u in use_cases)


def use_case_needle(use_case: str) -> str:
    """What `use_cases_key` contains iff the use case is among them ('' matches everything)."""
    return "\n" + json.dumps(use_case) + "\n" if use_case else "\n"


def decode_template(template_id: str, version: str, etag: str, create_time: datetime, body: str) -> PromptTemplate:
    data: dict[str, Any] = json.loads(body)
    meta = data["metadata"]
    return PromptTemplate(
        template_id=template_id,
        version=version,
        system_message=data["system_message"],
        user_message_template=data["user_message_template"],
        required_variables=tuple(data["required_variables"]),
        optional_variables=data["optional_variables"],
        metadata=TemplateMetadata(meta["description"], tuple(meta["use_cases"]), tuple(meta["recommended_models"])),
        variables_schema=data["variables_schema"],
        create_time=create_time,
        etag=etag,
        owner=data.get("owner", ""),
    )
