# Fieldtrace: `make run` starts the server, `make test` runs the tests. Both set up everything first:
# the system libraries GeoDjango needs, a virtualenv in .venv with a Python that can load SpatiaLite,
# and the project with its dependencies.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# A key for test and check runs only; real deployments set SECRET_KEY or SECRET_KEY_FILE.
CHECK_SECRET_KEY := fieldtrace-tests-only-not-a-secret

.PHONY: setup system-deps run test test-js test-fast lint format clean

setup: system-deps $(VENV)/.installed

system-deps:
	@scripts/system-deps.sh

# Rebuilt when pyproject.toml changes, or when .venv's Python cannot load SQLite extensions.
$(VENV)/.installed: pyproject.toml scripts/find-python.sh
	@if ! $(PY) -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension(True)' 2>/dev/null; then \
	  set -e; rm -rf $(VENV); python=$$(scripts/find-python.sh); \
	  echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

run: export DEBUG ?= 1
run: setup
	@mkdir -p $${VAR_DIR:-var}
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_data
	@echo "Fieldtrace on http://$(HOST):$(PORT)/"
	@echo "  API docs (Swagger UI): http://$(HOST):$(PORT)/api/docs/"
	@echo "  OpenAPI 3 schema:      http://$(HOST):$(PORT)/api/schema/   Redoc: http://$(HOST):$(PORT)/api/redoc/"
	@echo "  health:                http://$(HOST):$(PORT)/healthz"
	@echo "  admin:                 http://$(HOST):$(PORT)/admin/   map: http://$(HOST):$(PORT)/map/"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite, the slow end-to-end tests included. SpatiaLite unless DATABASE_URL is set.
# The tests without processes of their own run on both CPUs (pytest-xdist, a database per worker);
# the end-to-end ones (marked slow: live servers, browsers, Celery workers on the shared broker) one
# at a time after them. Exit status 5 is "nothing selected" (PYTEST_ARGS naming only one kind).
TEST_WORKERS ?= 2
test: export SECRET_KEY ?= $(CHECK_SECRET_KEY)
test: setup test-js
	$(PY) -m pytest -m "not slow" -n $(TEST_WORKERS) $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The sync client's JavaScript tests (field_app/static/field_app/sync/), with Node's own runner.
test-js:
	node --test tests/js/

# The quick loop while working: everything but the end-to-end tests.
test-fast: export SECRET_KEY ?= $(CHECK_SECRET_KEY)
test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Push throughput (bench/RESULTS.md), in a throwaway database: SpatiaLite in a temporary file unless
# DATABASE_URL is set, then a separate <name>_bench database on that server, dropped afterwards.
.PHONY: bench
bench: export SECRET_KEY ?= $(CHECK_SECRET_KEY)
bench: setup
	$(PY) bench/run.py

lint: export SECRET_KEY ?= $(CHECK_SECRET_KEY)
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
