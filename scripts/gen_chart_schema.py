"""Write helm/llm-orchestrator/values.schema.json from the chart's own schema and the server's settings model.

The chart's values (helm/values-schema.yaml) take the orchestrator's configuration as a `config:` block rendered
into the ConfigMap. Its schema is pydantic's `Settings.model_json_schema()`, so `helm install/lint/template`
reject every key and type the server would reject (unknown keys included: the settings forbid extras), and the
chart follows the configuration as it grows. Cross-field rules (a model naming an unknown provider, ...) are not
JSON Schema; `make test` runs `orchestrator check-config` on the rendered ConfigMap for those.

    python scripts/gen_chart_schema.py          # regenerate
    python scripts/gen_chart_schema.py --check  # exit 1 if the committed schema is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from orchestrator.config import ServiceSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
CHART_PART = ROOT / "helm/values-schema.yaml"
TARGET = ROOT / "helm/llm-orchestrator/values.schema.json"
CONFIG_DEF = "OrchestratorConfig"
# Fields whose `mode="before"` validators accept more than pydantic's JSON schema says: (model, field) -> a value
# only the widened schema allows. The schema takes `anyOf: [string, <the field's own>]`, and build() proves with
# the model itself that the server accepts the string, so a stale entry fails `make chart` instead of lingering.
# (Annotating the field with pydantic's WithJsonSchema would make this table unnecessary.)
ACCEPTS_ONE_STRING: dict[tuple[type[BaseModel], str], dict[str, Any]] = {
    (ServiceSettings, "key_sha256"): {"name": "svc", "key_sha256": "0" * 64},
}


def build() -> dict[str, Any]:
    schema: dict[str, Any] = yaml.safe_load(CHART_PART.read_text())
    config = Settings.model_json_schema(mode="validation")
    nested = config.pop("$defs", {})
    clashes = set(nested) & set(schema["$defs"]) | ({CONFIG_DEF} & set(schema["$defs"]))
    if clashes:
        raise SystemExit(f"{CHART_PART}: $defs names clash with the settings' own: {sorted(clashes)}")
    config["title"] = "orchestrator configuration"
    for (model, field), sample in ACCEPTS_ONE_STRING.items():
        model.model_validate(sample)  # raises if the server no longer accepts a single string here
        properties = nested[model.__name__]["properties"]
        declared = {k: v for k, v in properties[field].items() if k not in ("default", "title")}
        properties[field] = {"title": properties[field].get("title", field), "anyOf": [{"type": "string"}, declared]}
    schema["$defs"] = {**schema["$defs"], CONFIG_DEF: config, **dict(sorted(nested.items()))}
    return schema


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed schema is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run `make chart`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
