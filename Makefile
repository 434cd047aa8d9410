# Two entry points (see README): `make sample` and `make test`. Both set up .venv first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: setup setup-spark sample test test-spark lint bench clean
EVENTS ?= 1M
ROUNDS ?= 2

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The spark target's extra (pyspark, dbt-spark); Java 17 must be on the PATH.
setup-spark: $(VENV)/.installed-spark

$(VENV)/.installed-spark: $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	touch $@

sample: setup
	$(BIN)/outbound-events sample

lint: setup
	$(BIN)/ruff check src tests/python tests/spark scripts benchmarks
	$(BIN)/ruff format --check src tests/python tests/spark scripts benchmarks
	mkdir -p target
	OUTBOUND_EVENTS_DB=$(CURDIR)/target/lint.duckdb $(BIN)/sqlfluff lint models tests --processes 2

test: lint
	OUTBOUND_EVENTS_TEST_ALL_ROWS=true $(BIN)/pytest

# Both engines on the same inputs, marts compared row for row (docs/spark.md).
test-spark: setup-spark
	OUTBOUND_EVENTS_TEST_ALL_ROWS=true $(BIN)/pytest tests/spark

bench: setup
	$(BIN)/python benchmarks/bench.py --events $(EVENTS) --rounds $(ROUNDS)

clean:
	rm -rf $(VENV) target logs
