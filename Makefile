# fincrm — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CUSTOMERS ?= 1000
SEED ?= 7
export FINCRM_DEBUG ?= 1

.PHONY: install demo serve test test-fast test-calendar lint format browser-deps clean messages

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/fincrm migrate --no-input
	$(BIN)/fincrm demo-data --customers $(CUSTOMERS) --seed $(SEED) --reset
	@if $(BIN)/fincrm help evaluate >/dev/null 2>&1; then $(BIN)/fincrm evaluate --full; fi
	$(BIN)/fincrm daily
	$(BIN)/fincrm predict
	$(BIN)/fincrm collectstatic --no-input -v 0
	@echo "fincrm is serving on http://127.0.0.1:8000/ — log in with one of the demo users above."
	$(BIN)/fincrm runserver 127.0.0.1:8000

serve: install
	$(BIN)/fincrm runserver 127.0.0.1:8000

# Browser tests need Debian's Chromium; install it when we can (root or sudo), else they skip.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium not installed and no root: browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

# pytest exits 5 when it collects no test: that is not a failure of the code.
test: install browser-deps
	$(BIN)/ruff check src tests conftest.py
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && { echo "no tests collected"; rc=0; }; exit $$rc

# The suite again as if today were a month end and 29 February: a test that depends on the
# calendar fails here at once instead of on some days of the month.
CALENDAR_DAYS ?= 2027-01-31 2028-02-29
# The days run at once (a pytest run is one process; CI has two cores), each with its own
# temporary directory (its mypy cache and media files); their outputs follow one another.
test-calendar: install
	@dir=$$(mktemp -d); \
	for day in $(CALENDAR_DAYS); do \
	  mkdir -p $$dir/$$day; \
	  ( TMPDIR=$$dir/$$day FINCRM_TEST_TODAY=$$day $(BIN)/python -m pytest -q -m "not browser" \
	      -p no:cacheprovider $(PYTEST_ARGS) > $$dir/$$day.log 2>&1; echo $$? > $$dir/$$day.rc ) & \
	done; \
	wait; rc=0; \
	for day in $(CALENDAR_DAYS); do \
	  echo "== tests as of $$day"; cat $$dir/$$day.log; \
	  day_rc=$$(cat $$dir/$$day.rc); [ "$$day_rc" -ne 0 ] && rc=$$day_rc; \
	done; \
	rm -rf $$dir; exit $$rc

test-fast: install
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: install
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

messages: install
	cd src/fincrm && ../../$(BIN)/fincrm makemessages -l zh_Hans --no-obsolete && ../../$(BIN)/fincrm compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var .pytest_cache
