# archiver — run `make` (or `make help`) to see the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BAGS   ?= bags
SOURCES ?= sources
LEDGER ?= $(BAGS)/.audit-ledger.sqlite
OCFL_ROOT ?= deposit/ocfl-root

.DEFAULT_GOAL := help
.PHONY: help venv bags validate audit test lint bench bench-quick package deposit clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install archiver with its test tools (re-run only when pyproject.toml changes)

bags: $(STAMP) ## Build one preservation bag per statement in sources/ into bags/
	$(BIN)/archiver build --catalog $(SOURCES)/metadata.csv --out $(BAGS)

validate: $(STAMP) ## Validate every bag in bags/ (full fixity, profile and metadata)
	$(BIN)/archiver validate $(BAGS)/*/

audit: $(STAMP) ## Audit the fixity of every bag under bags/ and record it in the ledger
	$(BIN)/archiver audit $(BAGS) --ledger $(LEDGER)

test: $(STAMP) ## Run the test suite (lint and type checks included)
	$(BIN)/ruff check archiver tests
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP) ## ruff and mypy (strict) on the package
	$(BIN)/ruff check archiver tests
	$(BIN)/ruff format --check archiver tests
	$(BIN)/mypy

clean: ## Remove the virtualenv, built bags and caches (sources are never touched)
	rm -rf $(VENV) $(BAGS) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
