# Two entry points (see README): `make sample` and `make test`. Both set up .venv first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: setup sample test lint bench clean
EVENTS ?= 1M
ROUNDS ?= 2

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

sample: setup
	$(BIN)/outbound-events sample

lint: setup
	$(BIN)/ruff check src tests/python scripts benchmarks
	$(BIN)/ruff format --check src tests/python scripts benchmarks
	mkdir -p target
	OUTBOUND_EVENTS_DB=$(CURDIR)/target/lint.duckdb $(BIN)/sqlfluff lint models tests --processes 2

test: lint
	OUTBOUND_EVENTS_TEST_ALL_ROWS=true $(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/bench.py --events $(EVENTS) --rounds $(ROUNDS)

clean:
	rm -rf $(VENV) target logs
