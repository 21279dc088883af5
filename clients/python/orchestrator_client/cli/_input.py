"""Reading what people type: NAME=VALUE variables and YAML/JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator_client.cli._output import UsageError


def parse_variables(items: list[str]) -> dict[str, Any]:
    """`NAME=VALUE` gives a string; `NAME:=JSON` gives any JSON value (a number, a list, an object)."""
    variables: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.rstrip(":"):
            raise UsageError(f"--var {item!r}: expected NAME=VALUE or NAME:=JSON")
        if name.endswith(":"):
            name = name[:-1]
            try:
                variables[name] = json.loads(value)
            except ValueError as err:
                raise UsageError(f"--var {item!r}: the value after := is not JSON ({err})") from None
        else:
            variables[name] = value
    return variables


def load_document(path: str) -> Any:
    """A JSON or YAML file (YAML needs PyYAML: `pip install 'orchestrator-client[yaml]'`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"{path}: {err.strerror or err}") from None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml
    except ImportError:
        raise UsageError(f"{path}: not JSON, and reading YAML needs PyYAML (pip install pyyaml)") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not valid YAML or JSON: {err}") from None
