# The project's two commands: `make run` (serve on :8000) and `make test` (everything CI runs).
VENV ?= .venv
PY := $(VENV)/bin/python
# PostgreSQL used by `make test-postgres`; each test gets its own database cloned from a template.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: venv run test test-sqlite test-postgres lint-imports

venv:
	@VENV=$(VENV) scripts/venv.sh requirements-dev.txt

run:
	scripts/run.sh

# SQLite suite, then the PostgreSQL suite; import contracts first because they take a second.
test: venv lint-imports test-sqlite test-postgres

test-sqlite: venv
	env -u TEST_DATABASE_URL $(PY) -m pytest -q --ignore=tests/postgres $(PYTEST_ARGS)

test-postgres: venv
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -q tests/api tests/postgres $(PYTEST_ARGS)

lint-imports: venv
	$(VENV)/bin/lint-imports
