# Two entry points, both doing all set-up on a fresh machine:
#   make lab    - a student's JupyterLab with the graded lab and the optional labs
#   make test   - the whole test suite (what CI runs through .ci/run)
# and a quick loop for developers:
#   make test-fast - the fast part only (no root, apt, browser, database or sandbox)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
WORK ?= my-work
PYTEST_ARGS ?=
# pytest-xdist: one pytest worker per core; tests sharing a fixture stay together
# (tests/conftest.py groups them and puts the long ones first)
JOBS ?= auto
XDIST = -n $(JOBS) --dist loadgroup --no-loadscope-reorder
export PATH := $(BIN):$(PATH)

.PHONY: lab refresh test test-fast release help

help:
	@echo "make lab      install (first time) and open JupyterLab on $(WORK)/ for a student"
	@echo "make test     install (first time) and run the whole test suite"
	@echo "make test-fast  the fast part of the suite (about 85 seconds on 2 cores; no root, apt or services)"
	@echo "make refresh  a fresh copy of the graded lab in $(WORK)/ that keeps your answers (old file kept as a backup)"
	@echo "make release  regenerate release/ from source/ with nbgrader (instructors)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

VALIDATE_CONFIG := jupyter-config/jupyter_server_config.d/nbgrader_validate_repaired.json
$(VENV)/.student: requirements.txt pyproject.toml $(VALIDATE_CONFIG) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@# the editable install leaves pyproject's data-files out: the Validate button's server config
	install -D -m 644 $(VALIDATE_CONFIG) $(VENV)/etc/jupyter/jupyter_server_config.d/$(notdir $(VALIDATE_CONFIG))
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.student
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Copies the student notebooks (and the nbgrader settings the Validate button needs,
# e.g. its cell timeout) into $(WORK)/ once, never overwriting a student's work, then
# opens JupyterLab there. Root (containers) needs --allow-root.
lab: $(VENV)/.student
	@mkdir -p $(WORK)
	@for f in release/multiclass_digits/*.ipynb notebooks/*.ipynb nbgrader_config.py; do \
	  [ -e "$(WORK)/$$(basename $$f)" ] || cp "$$f" "$(WORK)/"; done
	$(BIN)/jupyter lab --notebook-dir=$(WORK) $(if $(filter 0,$(shell id -u)),--allow-root)

# The current release of the graded lab with the student's graded-cell code put back (a broken
# notebook, or a corrected release); the old file is kept as NAME.backup-DATE-TIME.ipynb.
NOTEBOOK ?= $(WORK)/multiclass_digits.ipynb
refresh: $(VENV)/.student
	$(BIN)/python -m utils.refresh "$(NOTEBOOK)"

test: $(VENV)/.dev
	bash tools/install_browser.sh
	bash tools/install_sandbox.sh
	bash tools/start_postgres.sh
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# Everything that needs no notebook execution, no root and no service: unit tests, the
# answer corpus, data checks, quiet imports. Markers (pyproject.toml) leave out the rest.
FAST_MARKERS := not slow and not browser and not postgres and not sandbox

test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest $(XDIST) -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

release: $(VENV)/.student
	$(BIN)/python tools/generate_release.py
