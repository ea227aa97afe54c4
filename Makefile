# Two entry points, both doing all set-up on a fresh machine:
#   make lab    - a student's JupyterLab with the graded lab and the optional labs
#   make test   - the whole test suite (what CI runs through .ci/run)
# a quick loop for developers:
#   make test-fast - the fast part only (no root, apt, browser, database or sandbox)
# and the instructor's two:
#   make instructor  - the course environment (no test tools), then what to run next
#   make student-kit - dist/: what students get (no solution, no hidden test)
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

.PHONY: lab refresh test test-fast release instructor student-kit help hub hub-roster hub-grade

help:
	@echo "make lab          install (first time) and open JupyterLab on $(WORK)/ for a student"
	@echo "make test         install (first time) and run the whole test suite"
	@echo "make test-fast    the fast part of the suite (about 85 seconds on 2 cores; no root, apt or services)"
	@echo "make refresh      a fresh copy of the graded lab in $(WORK)/ that keeps your answers (old file kept as a backup)"
	@echo "make instructor   install the course environment (no test tools) and say what to run next"
	@echo "make release      regenerate release/ from source/ with nbgrader (instructors)"
	@echo "make student-kit  build $(KIT_DIR).zip and $(KIT_DIR)/, what students get"
	@echo "make hub         (root) install what is missing and start the course JupyterHub (docs/hub.md)"
	@echo "make hub-roster ROSTER=roster.csv   (root) create the course accounts from a CSV"
	@echo "make hub-grade   (root) grade the collected submissions in the sandbox"

# Each install step says what it does and how long it takes; pip shows every package.
# (Sizes and times measured on Linux x86_64, pip's cache off: docs/students.md.)
$(BIN)/python:
	@echo "== Creating the Python environment $(VENV)/ (a few seconds)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

VALIDATE_CONFIG := jupyter-config/jupyter_server_config.d/nbgrader_validate_repaired.json
$(VENV)/.student: requirements.txt pyproject.toml $(VALIDATE_CONFIG) | $(BIN)/python
	@echo "== Installing the course's packages (requirements.txt: TensorFlow, JupyterLab, nbgrader,"
	@echo "   Dask and this repository): about 400 MB to download, 2 GB installed; about 5 minutes,"
	@echo "   up to 15 on a slow connection. pip lists each package as it goes."
	@start=$$(date +%s); $(BIN)/python -m pip install --progress-bar on -r requirements.txt \
	  && echo "== Course packages installed in $$(( $$(date +%s) - start )) s"
	@# the editable install leaves pyproject's data-files out: the Validate button's server config
	@install -D -m 644 $(VALIDATE_CONFIG) $(VENV)/etc/jupyter/jupyter_server_config.d/$(notdir $(VALIDATE_CONFIG))
	@touch $@

$(VENV)/.dev: requirements-dev.txt deploy/requirements-hub.txt $(VENV)/.student
	@echo "== Installing the test tools (requirements-dev.txt: pytest, nbval, Playwright, mlxtend, ...:"
	@echo "   about 400 MB installed; 1 to 6 minutes)"
	@start=$$(date +%s); $(BIN)/python -m pip install --progress-bar on -r requirements-dev.txt \
	  && echo "== Test tools installed in $$(( $$(date +%s) - start )) s"
	@touch $@

# The student's JupyterLab: copies the student notebooks (and student/nbgrader_config.py,
# the Validate button's cell timeout) into $(WORK)/ once, never overwriting a student's work,
# and opens JupyterLab there with student/jupyter/ first among Jupyter's config folders: the
# Validate button, none of the instructor's nbgrader tools (docs/students.md).
# Root (containers) needs --allow-root; LAB_ARGS go to `jupyter lab` (the tests use them).
STUDENT_JUPYTER := $(abspath student/jupyter)
LAB_ARGS ?=
lab: $(VENV)/.student
	@mkdir -p $(WORK)
	@for f in release/multiclass_digits/*.ipynb notebooks/*.ipynb student/nbgrader_config.py; do \
	  [ -e "$(WORK)/$$(basename $$f)" ] || cp "$$f" "$(WORK)/"; done
	@echo "== Opening JupyterLab on $(WORK)/ (stop it with Ctrl-C twice)"
	cd $(WORK) && JUPYTER_CONFIG_PATH=$(STUDENT_JUPYTER)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} \
	  $(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# The instructor's environment: what `python -m grading` and nbgrader need, no test tools.
instructor: $(VENV)/.student
	@echo
	@echo "The course environment is ready in $(VENV)/. What comes next (docs/instructors.md):"
	@echo "  export PATH=$(BIN):\$$PATH"
	@echo "      nbgrader runs alembic: the venv's bin/ first on PATH, in every shell you grade in"
	@echo "  make release"
	@echo "      after editing source/: regenerates release/ (commit both)"
	@echo "  make student-kit"
	@echo "      what you hand out: $(KIT_DIR).zip, or the folder $(KIT_DIR)/ to publish"
	@echo "  python -m grading multiclass_digits"
	@echo "      grades submitted/*/multiclass_digits/ in sandboxes (Linux, as root, with bubblewrap)"
	@command -v bwrap >/dev/null || echo "      bubblewrap is missing here: apt-get install bubblewrap (or dnf install bubblewrap)"

# The current release of the graded lab with the student's graded-cell code put back (a broken
# notebook, or a corrected release); the old file is kept as NAME.backup-DATE-TIME.ipynb.
NOTEBOOK ?= $(WORK)/multiclass_digits.ipynb
refresh: $(VENV)/.student
	$(BIN)/python -m utils.refresh "$(NOTEBOOK)"

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

# Refuses a stale release/ (the kit would hand out an old notebook) and any kit that holds
# a solution or hidden-test line of source/ (tools/student_kit.py scans it).
KIT := multiclass-digits-kit
KIT_DIR ?= dist/$(KIT)
student-kit: $(VENV)/.student
	$(BIN)/python tools/generate_release.py --check
	$(BIN)/python tools/student_kit.py --out $(KIT_DIR)

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
