# One entry point for people and CI. `make run` and `make test` each install everything they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
PORT ?= 8080

.PHONY: install system-deps benchmark-deps run test check lint generate check-generated benchmark clean

# Debian packages the tests need: real servers, not mocks (PostgreSQL for the sql backend, Chromium for the
# browser tests, wrk for the test that the benchmark loads send what they say: tests/benchmarks).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The virtual environment, rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Both services, filesystem storage in ./data, the front-end on http://127.0.0.1:8080. Secrets for local use
# are made on first run in .secrets/ (kept out of git). DISCOVERY=<url> names a WOPI client's discovery.
run: install
	$(BIN)/wopi-host run --data $(DATA) --port $(PORT) $(if $(DISCOVERY),--discovery-url $(DISCOVERY))

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

generate: install
	$(BIN)/python proto/generate.py

check-generated: install
	$(BIN)/python proto/generate.py --check

# What CI runs (.ci/run): static checks, then every test.
test: system-deps lint check-generated
	$(BIN)/python -m pytest

# The load generator the throughput benchmarks drive the front-end with (Debian's wrk).
benchmark-deps:
	@command -v wrk >/dev/null || { echo "installing Debian packages: wrk"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }

# Every hot path on every backend beside the bare shape's ceilings, in one run (benchmarks/suite, ~15 min on two
# cores), written to docs/performance.md. BENCHMARK_ARGS=--quick for a smoke run of ~2 min (then not written
# there unless --output is given again). The older single benchmarks still run alone: python -m benchmarks.NAME.
BENCHMARK_ARGS ?=
benchmark: install system-deps benchmark-deps
	$(BIN)/python -m benchmarks.suite $(if $(BENCHMARK_ARGS),$(BENCHMARK_ARGS),--output docs/performance.md)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
