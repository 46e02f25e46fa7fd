# Two entry points: `make run` (the app on the seed corpus) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1

.PHONY: install run test lint eval bench browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, so nothing pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)

run: install
	$(BIN)/python -m qa indexes | grep -q '^seeds' || $(BIN)/python -m qa ingest seeds --index seeds
	$(BIN)/python app.py

test: install browser
	$(BIN)/ruff check qa tests app.py
	$(BIN)/python -m pytest -q

eval: install
	$(BIN)/python -m qa eval ../shared/evalsets/realtimeqa-dev/*/ --report reports/dev

bench: install
	$(BIN)/python -m qa bench --out reports/bench.json

clean:
	rm -rf $(VENV) indexes/*/ reports
