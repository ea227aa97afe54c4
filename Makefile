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

.PHONY: lab test test-fast release help hub hub-roster hub-grade

help:
	@echo "make lab      install (first time) and open JupyterLab on $(WORK)/ for a student"
	@echo "make test     install (first time) and run the whole test suite"
	@echo "make test-fast  the fast part of the suite (about 85 seconds on 2 cores; no root, apt or services)"
	@echo "make release  regenerate release/ from source/ with nbgrader (instructors)"
	@echo "make hub      (root) install what is missing and start the course JupyterHub (docs/hub.md)"
	@echo "make hub-roster ROSTER=roster.csv   (root) create the course accounts from a CSV"
	@echo "make hub-grade  (root) grade the collected submissions in the sandbox"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.student: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
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

test: $(VENV)/.dev
	bash tools/install_browser.sh
	bash tools/install_sandbox.sh
	bash tools/start_postgres.sh
	bash tools/install_hub.sh
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# Everything that needs no notebook execution, no root and no service: unit tests, the
# answer corpus, data checks, quiet imports. Markers (pyproject.toml) leave out the rest.
FAST_MARKERS := not slow and not browser and not postgres and not sandbox and not hub

test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest $(XDIST) -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

release: $(VENV)/.student
	$(BIN)/python tools/generate_release.py

# The course on a JupyterHub (docs/hub.md), all as root. `make hub` installs what is missing
# (tools/install_hub.sh: the course environment in /opt, the proxy, the exchange) and runs the
# hub in the foreground on HUB_IP:HUB_PORT; accounts come from `make hub-roster`.
HUB_IP ?= 127.0.0.1
HUB_PORT ?= 8000
ROSTER ?= roster.csv
ASSIGNMENT ?= multiclass_digits
GRADE_ARGS ?=

hub:
	bash tools/install_hub.sh
	COURSE_HUB_IP=$(HUB_IP) COURSE_HUB_PORT=$(HUB_PORT) bash tools/start_hub.sh

hub-roster:
	/usr/bin/python3.11 deploy/roster.py $(ROSTER)

hub-grade:
	/usr/bin/python3.11 deploy/grade.py $(ASSIGNMENT) $(GRADE_ARGS)
