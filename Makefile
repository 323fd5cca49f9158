# Two commands set up everything on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test demo lint format bench soak clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,pg]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -m "not slow"

demo: $(STAMP)
	$(BIN)/replenish demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/import_sales.py
	$(BIN)/python benchmarks/plan_speed.py
	$(BIN)/python benchmarks/kpi_speed.py
	$(BIN)/python benchmarks/decision_quality.py
	$(BIN)/python benchmarks/ingest_speed.py

soak: $(STAMP)
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) demo .pytest_cache .ruff_cache .mypy_cache
