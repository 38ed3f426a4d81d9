# contact-sync: every target sets itself up (a virtual environment in .venv).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help setup browser demo test lint bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the project with its dev tools

demo: $(STAMP)  ## start the arnis sandbox, sync sample_data/ twice, stop it
	$(BIN)/python -m pipeline.demo

browser:  ## make sure a Chromium is there for the HTML report test (installs Debian's chromium)
	@tools/ensure-browser

# The suite waits more than it computes (retry budgets, fault sandboxes, real processes):
# four worker processes, each file on one of them (pytest-xdist --dist loadfile).
test: $(STAMP) browser lint  ## ruff, mypy, then every test (installs the browser the HTML test needs)
	$(BIN)/python -m pytest -n 4 --dist loadfile

lint: $(STAMP)  ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check pipeline schemas tests bench
	$(BIN)/ruff format --check pipeline schemas tests bench
	$(BIN)/mypy pipeline schemas

# compileall: the bytecode an installed (non-editable) package has, which an editable
# install under PYTHONDONTWRITEBYTECODE never gets (0.05-0.15 s of every process start).
bench: $(STAMP)  ## timed stages on generated data; figures into BENCHMARKS.md
	$(BIN)/python -m compileall -q pipeline schemas bench
	$(BIN)/python -m bench.run

clean:  ## remove the virtual environment and run state
	rm -rf $(VENV) .contact-sync out
