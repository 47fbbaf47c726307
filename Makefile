# One entry point for people and CI. `make run` and `make test` each install everything they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
LISTEN ?= 127.0.0.1:50051
SECRET_FILE := .secrets/storage-secret

.PHONY: install run test check lint generate check-generated benchmark clean

# The virtual environment, rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# A random shared secret for the local storage service, made once and kept out of git.
$(SECRET_FILE):
	mkdir -p $(dir $@)
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > $@

run: install $(SECRET_FILE)
	$(BIN)/wopi-storage --backend filesystem --root $(DATA) --listen $(LISTEN) --secret-file $(SECRET_FILE)

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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
