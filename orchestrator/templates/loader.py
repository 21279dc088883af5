"""Seed templates from a directory of YAML/JSON files at start, without duplicating versions on restart.

Shipped templates never stop a start: a seed version someone deleted stays deleted (versions are never
reused), and a stored version whose content differs from the file is kept; both are logged. A file
that cannot be read or is not a valid template is still a configuration error.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml

from orchestrator.errors import AlreadyExistsError, ConfigError, NotFoundError, OrchestratorError
from orchestrator.templates.model import PromptTemplate, TemplateMetadata
from orchestrator.templates.registry import TemplateRegistry

log = logging.getLogger(__name__)
_FIELDS = {
    "template_id",
    "version",
    "system_message",
    "user_message_template",
    "required_variables",
    "optional_variables",
    "metadata",
    "variables_schema",
}


def template_from_mapping(data: dict[str, Any]) -> PromptTemplate:
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    meta = data.get("metadata") or {}
    return PromptTemplate(
        template_id=str(data["template_id"]),
        version=str(data.get("version") or ""),
        system_message=str(data.get("system_message") or ""),
        user_message_template=str(data["user_message_template"]),
        required_variables=tuple(data.get("required_variables") or ()),
        optional_variables=dict(data.get("optional_variables") or {}),
        metadata=TemplateMetadata(
            description=str(meta.get("description", "")),
            use_cases=tuple(meta.get("use_cases") or ()),
            recommended_models=tuple(meta.get("recommended_models") or ()),
        ),
        variables_schema=data.get("variables_schema"),
    )


async def load_directory(registry: TemplateRegistry, directory: Path) -> int:
    """Register every template file; returns how many versions were new."""
    created = 0
    for path in sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml", ".json"}):
        try:
            text = path.read_text()
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            template = template_from_mapping(data)
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise ConfigError(f"template file {path}: {exc}") from None
        before = False
        try:
            if not template.version and await _same_as_latest(registry, template):
                continue
            before = bool(template.version) and await _exists(registry, template)
            await registry.create(template)
            created += 0 if before else 1
        except AlreadyExistsError:
            kept = "a different version is stored" if before else "it was deleted and versions are never reused"
            log.warning(
                "seed template %s version %s not registered: %s",
                template.template_id,
                template.version,
                kept,
                extra={"file": str(path), "template_id": template.template_id, "version": template.version},
            )
        except OrchestratorError as exc:
            raise ConfigError(f"template file {path}: {exc}") from None
    log.info("seed templates loaded", extra={"directory": str(directory), "new_versions": created})
    return created


async def _same_as_latest(registry: TemplateRegistry, template: PromptTemplate) -> bool:
    try:
        latest = await registry.get(template.template_id)
    except NotFoundError:
        return False
    return latest.etag == template.content_key()


async def _exists(registry: TemplateRegistry, template: PromptTemplate) -> bool:
    try:
        await registry.get(template.template_id, template.version)
    except NotFoundError:
        return False
    return True
