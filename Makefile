# Quick start: `make demo` runs the demo on the embedded default, `make test` runs the checks.
# Each target creates the virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck contracts unit bench clean

# Third parties' packages the tests use: a connector (tests/connectors/test_third_party_package.py) and a
# flow (tests/engine/test_example_flow.py). frontline finds them through their entry points alone, as it
# would any installed plugin.
FIXTURE_PACKAGES := tests/fixtures/acme_helpdesk tests/fixtures/example_flow

$(STAMP): pyproject.toml $(foreach p,$(FIXTURE_PACKAGES),$(p)/pyproject.toml $(wildcard $(p)/*/*.py))
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "frontline needs Python 3.11 or newer (found $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(addprefix ./,$(FIXTURE_PACKAGES))
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/frontline demo

test: lint typecheck contracts unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

# The layering contracts in pyproject.toml ([tool.importlinter]); tests/test_layering.py adds "no import cycles".
contracts: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/bench_model.py
	$(BIN)/python bench/bench_triage.py
	$(BIN)/python bench/bench_escalate.py

clean:
	rm -rf $(VENV) .frontline frontline-demo .mypy_cache .ruff_cache .pytest_cache
