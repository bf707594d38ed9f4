# PayGate: `make run` starts the app; `make test` runs the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: run test test-fast lint fuzz bench browser migrate screenshots clean

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.runtime  ## start PayGate on http://localhost:3001 (SQLite, demo data)
	$(PY) main.py

browser: $(VENV)/.dev  ## make sure a Chromium for the browser tests is there
	@PY=$(PY) bash scripts/ensure-chromium.sh

# Three workers, a test file to each at a time (pytest-xdist): a file's tests share their servers and
# fixtures. The journeys mostly wait on their servers and browsers, so on this project's 2-core machines
# a third worker helps: 7 min 7 s against 8 min 49 s with two (2026-11-27, 1,742 tests).
PYTEST_WORKERS ?= 3
test: $(VENV)/.dev browser  ## the whole suite: unit, integration, API, UI, browser journeys
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test-fast: $(VENV)/.dev  ## everything but the real-browser journeys
	$(PY) -m pytest -m "not e2e"

lint: $(VENV)/.dev  ## ruff, and mypy (strict on domain/, standard on storage/ and app/)
	$(PY) -m ruff check .
	$(PY) -m mypy

FUZZ_EXAMPLES ?= 200
FUZZ_SEED     ?= 7
fuzz: $(VENV)/.dev  ## Schemathesis against a real server, every check and phase; longer: make fuzz FUZZ_EXAMPLES=2000
	$(PY) -m tests.e2e.fuzz --max-examples $(FUZZ_EXAMPLES) --seed $(FUZZ_SEED)

bench: $(VENV)/.dev  ## the payment benchmark; figures go to docs/benchmarks.md
	$(PY) -m bench.startup
	$(PY) -m bench.payments
	$(PY) -m bench.events
	$(PY) -m bench.providers
	$(PY) -m bench.webhooks
	$(PY) -m bench.pages
	$(PY) -m bench.memory

TOUR_JOURNEYS := tests/e2e/test_journeys.py tests/e2e/test_storefront_journey.py tests/e2e/test_checkout_journey.py \
	tests/e2e/test_orders_journey.py tests/e2e/test_refund_journey.py tests/e2e/test_product_admin_journey.py \
	tests/e2e/test_webhooks_journey.py
screenshots: $(VENV)/.dev browser  ## refresh the README's tour (docs/screenshots) from the browser journeys
	PAYGATE_SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest $(TOUR_JOURNEYS) -q -p no:xdist

migrate: $(VENV)/.runtime  ## apply the schema migrations by hand (the app also applies them on start)
	$(VENV)/bin/alembic upgrade head

clean:
	rm -rf $(VENV) data .pytest_cache test-results
