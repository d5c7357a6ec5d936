# Two commands for a new machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export MLFLOW_DISABLE_TELEMETRY := 1
export DVC_NO_ANALYTICS := 1
export DO_NOT_TRACK := 1

.PHONY: install demo demo-monitoring demo-sites test test-all lint bench clean

$(BIN)/clinai: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(BIN)/clinai

install: $(BIN)/clinai

demo: install  ## install, then run every bundled use case end to end on embedded defaults
	$(BIN)/clinai demo

demo-monitoring: install  ## approve acute_deterioration, then score, monitor and update it (SYNTHETIC drift)
	$(BIN)/clinai demo --monitoring

demo-sites: install  ## develop at SYNTHETIC hospital A, validate at B-F, pool the site summaries
	$(BIN)/clinai demo --sites

test: install  ## install, then run the default (fast) test suite
	$(BIN)/python -m pytest -n 2 -q --durations=15

test-all: install  ## the full suite including slow tests
	$(BIN)/python -m pytest -n 2 -q -m ""

lint: install
	$(BIN)/ruff check src tests pipelines benchmarks
	$(BIN)/ruff format --check src tests benchmarks  # pipelines/: hashed into the cards, kept as written
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/pip install --quiet -c constraints.txt -e ".[bench]"
	$(BIN)/python benchmarks/bench_quality.py

clean:
	rm -rf runs mlruns.db mlartifacts optuna.db
