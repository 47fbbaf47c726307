# One entry point for people and CI. `make run` and `make test` each install everything they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
PORT ?= 8080

.PHONY: install run test check lint generate check-generated benchmark clean

# The virtual environment, rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Both services, filesystem storage in ./data, the front-end on http://127.0.0.1:8080. Secrets for local use
# are made on first run in .secrets/ (kept out of git).
run: install
	$(BIN)/wopi-host run --data $(DATA) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

generate: install
	$(BIN)/python proto/generate.py

check-generated: install
	$(BIN)/python proto/generate.py --check

# What CI runs (.ci/run): static checks, then every test.
test: lint check-generated
	$(BIN)/python -m pytest

benchmark: install
	$(BIN)/python -m benchmarks.storage_memory
	$(BIN)/python -m benchmarks.frontend_throughput

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
