# The two commands a new user runs: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch goes in first and pinned: a bare torch requirement would pull the newest CUDA build (several GB).
TORCH_SPEC ?= torch==2.13.0
# Every other version CI proved (scripts/constraints.py; `make constraints` rewrites it from a passing .venv):
# setup, demo, test and CI install with it, so a new upstream release cannot break a fresh clone.
CONSTRAINTS := constraints.txt
LATEST_VENV := .venv-latest

.PHONY: setup demo test test-vllm test-latest constraints lint bench clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	# System packages the tests use (Redis for Argilla, Chromium for browser tests); skipped without apt.
	if command -v apt-get >/dev/null 2>&1; then bash scripts/install_annotation_deps.sh; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	# The Argilla server's own pinned environment (it cannot share ours); a no-op once built.
	$(BIN)/alignlab annotate install
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/alignlab demo

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q
	PYTHON=$(BIN)/python bash scripts/wheel_check.sh
	$(MAKE) test-vllm

# The vLLM tests run in their own environment (vLLM's CPU build pins an older transformers); in .venv they skip.
# scripts/vllm_env.sh is a no-op once built, until its pins or pyproject.toml change.
test-vllm:
	bash scripts/vllm_env.sh .venv-vllm
	HF_HUB_OFFLINE=1 .venv-vllm/bin/python -m pytest -q -m vllm

# The newest releases pyproject.toml admits, in $(LATEST_VENV), without the constraints (not part of CI): runs the
# tests there, then lists the pins that differ. Move a pin (edit constraints.txt, or `make constraints` after
# upgrading .venv) once the tests pass with it.
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)"
	$(LATEST_VENV)/bin/python -m pip install --quiet -e ".[dev]"
	HF_HUB_OFFLINE=1 $(LATEST_VENV)/bin/python -m pytest -q; status=$$?; \
	  echo "pins that differ from the newest releases:"; \
	  $(LATEST_VENV)/bin/python scripts/constraints.py $(CONSTRAINTS); exit $$status

# Record the versions of .venv as the proven set (run after the tests pass there).
constraints: setup
	$(BIN)/python scripts/constraints.py --write $(CONSTRAINTS)

lint: setup
	$(BIN)/ruff check alignlab tests benchmarks

bench: setup
	$(BIN)/python benchmarks/data_pipeline.py

clean:
	rm -rf $(VENV) .venv-vllm $(LATEST_VENV) runs out .pytest_cache
