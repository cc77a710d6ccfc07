# archiver — run `make` (or `make help`) to see the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
BYTECODE := $(VENV)/.bytecode
PY_SOURCES := $(shell find archiver -name '*.py' 2>/dev/null)
BAGS   ?= bags
SOURCES ?= sources
LEDGER ?= audit-ledger.sqlite
OCFL_ROOT ?= deposit/ocfl-root

.DEFAULT_GOAL := help
.PHONY: help venv bags validate audit test lint docs reference bench bench-quick package deposit clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# The editable install runs archiver from this tree: compile it once here, so that a run
# under PYTHONDONTWRITEBYTECODE (cron, CI) does not recompile every module on every start.
$(BYTECODE): $(STAMP) $(PY_SOURCES)
	$(BIN)/python -m compileall -q archiver
	touch $(BYTECODE)

# make bench's peers (the bench extra: bdbag, siegfried); hashdeep is a system package
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,bench]'
	touch $(BENCH_STAMP)

venv: $(STAMP) ## Create .venv and install archiver with its test tools (re-run only when pyproject.toml changes)

bags: $(BYTECODE) ## Build one preservation bag per statement in sources/ into bags/
	$(BIN)/archiver build --catalog $(SOURCES)/metadata.csv --out $(BAGS)

validate: $(BYTECODE) ## Validate every bag in bags/ (full fixity, profile and metadata)
	$(BIN)/archiver validate $(BAGS)/*/

audit: $(BYTECODE) ## Audit the fixity of every bag under bags/, record it in the ledger, verify the ledger
	$(BIN)/archiver audit $(BAGS) --ledger $(LEDGER)
	$(BIN)/archiver ledger verify --ledger $(LEDGER)

package: $(BYTECODE) ## Serialize every bag reproducibly into packages/ (tar.gz + .sha256/.sha512)
	$(BIN)/archiver package $(BAGS)/*/ --format tar.gz --out packages

deposit: $(BYTECODE) ## Deposit every bag to the local OCFL storage root (deposit/ocfl-root)
	$(BIN)/archiver deposit $(BAGS)/*/ --to ocfl://$(abspath $(OCFL_ROOT)) --ledger $(LEDGER)

bench: $(BYTECODE) $(BENCH_STAMP) ## Full benchmarks vs bagit-python and sha256sum (several minutes, ~2.5 GiB scratch)
	$(BIN)/python -m bench.run

bench-quick: $(BYTECODE) $(BENCH_STAMP) ## The same benchmarks on small corpora (under a minute)
	$(BIN)/python -m bench.run --quick

test: $(STAMP) ## Run the test suite (lint, type checks, the layers contract and the docs check included)
	$(BIN)/ruff check archiver tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m archiver.cli.reference --check
	$(BIN)/pytest -q -n auto

lint: $(STAMP) ## ruff, mypy (strict), the import-linter layers contract, and the generated docs up to date
	$(BIN)/ruff check archiver tests bench
	$(BIN)/ruff format --check archiver tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m archiver.cli.reference --check

reference: $(STAMP) ## Regenerate the CLI reference, man page and completions from the code
	$(BIN)/python -m archiver.cli.reference --write

$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP) ## Build the documentation site offline into build/site/ (mkdocs build --strict)
	$(BIN)/python -m archiver.cli.reference --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "the site is in build/site/ (open build/site/index.html)"

clean: ## Remove the virtualenv, built bags and caches (sources are never touched)
	rm -rf $(VENV) $(BAGS) packages build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
