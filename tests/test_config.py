"""Configuration is validated at start; every error names the offending path."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from orchestrator.config import load_settings, settings_from_mapping
from orchestrator.errors import ConfigError


def config_error(raw: dict, env: dict | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(raw, env=env or {})
    return str(caught.value)


def test_no_keys_and_no_providers_serves_the_embedded_model() -> None:
    settings = settings_from_mapping({}, env={})

    assert {name: p.type for name, p in settings.providers.items()} == {"local": "local"}
    assert settings.default_model_name == "smollm2-135m-instruct"
    assert settings.server.port == 50051


def test_sdk_env_vars_enable_providers_with_default_catalogs() -> None:
    env = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "ak-test", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}

    settings = settings_from_mapping({}, env=env)

    assert set(settings.providers) == {"openai", "anthropic"}
    assert settings.providers["openai"].api_key.get_secret_value() == "sk-test"
    assert settings.providers["anthropic"].base_url == "http://127.0.0.1:9"
    assert {m.provider for m in settings.models} == {"openai", "anthropic"}


def test_unknown_keys_and_bad_values_name_their_paths() -> None:
    message = config_error(
        {
            "server": {"prot": 1, "port": 70000},
            "providers": {"mine": {"type": "openai_compatible"}},
        }
    )

    assert "server.prot: Extra inputs are not permitted" in message
    assert "server.port: Input should be less than or equal to 65535" in message
    assert "providers.mine: base_url is required for type openai_compatible" in message


def test_references_to_unknown_providers_and_models_name_their_paths() -> None:
    model = {"name": "m", "provider": "nowhere", "context_window": 100, "max_output_tokens": 10}
    message = config_error(
        {
            "providers": {"local": {"type": "local"}},
            "models": [
                {"name": "small", "provider": "local", "context_window": 100, "max_output_tokens": 10},
                model,
            ],
            "default_model": "big",
            "tasks": {"code_generation": {"fallback_models": ["small", "gpt-9"]}},
        }
    )

    assert "models[1].provider: unknown provider 'nowhere'" in message
    assert "default_model: unknown model 'big'" in message
    assert "tasks.code_generation.fallback_models[1]: unknown model 'gpt-9'" in message


def test_unreadable_and_malformed_files_are_reported(tmp_path: Path) -> None:
    not_yaml = tmp_path / "bad.yaml"
    not_yaml.write_text("server: [unclosed\n")

    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "missing.yaml", env={})
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_settings(not_yaml, env={})


async def test_the_server_refuses_to_start_on_a_bad_config_and_says_why(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("server:\n  prot: 1\n")

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestrator", "serve", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 2
    assert "server.prot: Extra inputs are not permitted" in stderr.decode()


async def test_a_provider_without_its_key_stops_start_up_naming_the_path() -> None:
    from orchestrator.app import build_app

    settings = settings_from_mapping({"providers": {"openai": {"type": "openai"}}}, env={})

    with pytest.raises(ConfigError, match=r"providers\.openai\.api_key: required"):
        await build_app(settings)


async def test_a_malformed_metrics_port_variable_is_reported_not_a_traceback() -> None:
    import os

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestrator", "serve", "--port", "0",
        env={**os.environ, "ORCHESTRATOR_METRICS_PORT": "ninety"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 2
    assert stderr.decode().strip() == "orchestrator: ORCHESTRATOR_METRICS_PORT: 'ninety' is not a port number"
