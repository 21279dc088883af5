"""Configuration is validated at start; every error names the offending path."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest
import yaml

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


def test_http_providers_speak_the_wire_protocol_natively_unless_told_to_use_the_sdk() -> None:
    providers = {
        "vllm": {"type": "openai_compatible", "base_url": "http://127.0.0.1:9/v1"},
        "anthropic": {"type": "anthropic", "api_key": "ak-test", "transport": "sdk", "max_connections": 8},
    }

    models = [{"name": "qwen", "provider": "vllm", "context_window": 8000, "max_output_tokens": 512}]

    settings = settings_from_mapping({"providers": providers, "models": models}, env={})

    assert (settings.providers["vllm"].transport, settings.providers["vllm"].max_connections) == ("native", 1000)
    assert (settings.providers["anthropic"].transport, settings.providers["anthropic"].max_connections) == ("sdk", 8)


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


BAD_CONFIGS = {
    "openai without a key": (
        {"providers": {"openai": {"type": "openai"}}},
        "providers.openai.api_key: required (or set OPENAI_API_KEY)",
    ),
    "backoff starts above its maximum": (
        {"routing": {"backoff_initial_seconds": 2, "backoff_max_seconds": 1}},
        "routing: backoff_initial_seconds (2.0) must not exceed backoff_max_seconds (1.0)",
    ),
    "cooldown above its maximum": (
        {"routing": {"breaker": {"cooldown_seconds": 10, "max_cooldown_seconds": 5}}},
        "routing.breaker: cooldown_seconds (10.0) must not exceed max_cooldown_seconds (5.0)",
    ),
    "a cache url with a memory cache": (
        {"cache": {"type": "memory", "url": "redis://127.0.0.1:6379/0"}},
        "cache.url: moved to shared_state.redis_url",
    ),
    "a redis cache without shared state": (
        {"cache": {"type": "redis"}},
        "cache.type: redis needs shared_state.redis_url",
    ),
    "a missing templates directory": (
        {"templates": {"directory": "/nonexistent/templates"}},
        "templates.directory: /nonexistent/templates is not a directory",
    ),
    "an unset environment variable": (
        {"shared_state": {"redis_url": "${env:ORCHESTRATOR_TEST_UNSET_URL}"}},
        "shared_state.redis_url: environment variable ORCHESTRATOR_TEST_UNSET_URL is not set",
    ),
    "a NaN limit": ({"routing": {"backoff_max_seconds": float("nan")}}, "routing.backoff_max_seconds: Input should be"),
    "an unknown provider transport": (
        {"providers": {"vllm": {"type": "openai_compatible", "base_url": "http://h:9/v1", "transport": "grpc"}}},
        "providers.vllm.transport: Input should be 'native' or 'sdk'",
    ),
    "a transport for the embedded model": (
        {"providers": {"local": {"type": "local", "transport": "sdk"}}},
        "providers.local: transport and max_connections apply only to HTTP providers, not to type local",
    ),
}


async def _run(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestrator", *args,
        env={k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_check_config_rejects_exactly_what_serve_rejects_naming_the_path(tmp_path: Path) -> None:
    files = {}
    for name, (raw, _) in BAD_CONFIGS.items():
        files[name] = tmp_path / f"{name.replace(' ', '-')}.yaml"
        files[name].write_text(yaml.safe_dump(raw))

    checked = await asyncio.gather(*(_run("check-config", "--config", str(f)) for f in files.values()))
    served = await asyncio.gather(
        *(_run("serve", "--config", str(f), "--port", "0", "--metrics-port", "0") for f in files.values())
    )

    for (name, (_, expected)), (check_code, check_err), (serve_code, serve_err) in zip(
        BAD_CONFIGS.items(), checked, served, strict=True
    ):
        assert (name, check_code, serve_code) == (name, 2, 2), (check_err, serve_err)
        assert expected in check_err, (name, check_err)
        assert check_err == serve_err, name


async def test_check_config_loads_the_seed_templates_as_serve_would(tmp_path: Path) -> None:
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "bad.yaml").write_text("template_id: bad\nuser_message_template: '{% if %}'\n")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"templates": {"directory": str(broken), "store": {"type": "memory"}}}))

    code, stderr = await _run("check-config", "--config", str(config))

    assert code == 2
    assert f"template file {broken / 'bad.yaml'}" in stderr and "TEMPLATE_SYNTAX_ERROR" not in stderr
    assert "syntax error" in stderr


def test_environment_references_are_expanded_in_string_values() -> None:
    raw = {"shared_state": {"redis_url": "redis://:${env:PASS}@${env:HOST}:6379/0"}}

    settings = settings_from_mapping(raw, env={"PASS": "s3cret", "HOST": "redis.internal"})

    assert settings.shared_state.redis_url.get_secret_value() == "redis://:s3cret@redis.internal:6379/0"


async def test_a_metrics_port_already_taken_stops_start_up_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, stderr = await _run("serve", "--port", "0", "--metrics-port", str(port))

    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr
    assert f":{port}" in lines[0] and "server.metrics_port / ORCHESTRATOR_METRICS_PORT" in lines[0]


async def test_a_malformed_metrics_port_variable_is_reported_not_a_traceback() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestrator", "serve", "--port", "0",
        env={**os.environ, "ORCHESTRATOR_METRICS_PORT": "ninety"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert process.returncode == 2
    assert stderr.decode().strip() == "orchestrator: ORCHESTRATOR_METRICS_PORT: 'ninety' is not a port number"
