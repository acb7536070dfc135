# The two commands a new user runs: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch goes in first and pinned: a bare torch requirement would pull the newest CUDA build (several GB).
TORCH_SPEC ?= torch==2.13.*

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml
	# System packages the tests use (Redis for Argilla, Chromium for browser tests); skipped without apt.
	if command -v apt-get >/dev/null 2>&1; then bash scripts/install_annotation_deps.sh; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# The Argilla server's own pinned environment (it cannot share ours); a no-op once built.
	$(BIN)/alignlab annotate install
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/alignlab demo

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check alignlab tests benchmarks

bench: setup
	$(BIN)/python benchmarks/data_pipeline.py

clean:
	rm -rf $(VENV) runs out .pytest_cache
