# The project's two commands: `make run` (serve on :8000) and `make test` (the suites CI runs;
# CI, .ci/run, adds `make rehearse-removal`).
VENV ?= .venv
PY := $(VENV)/bin/python
# PostgreSQL used by `make test-postgres`; each test gets its own database cloned from a template.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# Both cores: the suites are I/O- and process-heavy, and CI's clock is finite.
PYTEST_WORKERS ?= 2

.PHONY: venv run test test-sqlite test-postgres lint lint-imports rehearse-removal bench bench-quick bench-tools

venv:
	@VENV=$(VENV) scripts/venv.sh requirements-dev.txt

run:
	scripts/run.sh

# Lint (ruff, mypy), import contracts, the SQLite suite, then the PostgreSQL suite; both suites run even when the
# first fails, and any failure (pytest's "no tests collected" = 5 included) fails the target.
test: venv lint lint-imports
	@status=0; \
	$(MAKE) --no-print-directory test-sqlite || status=1; \
	$(MAKE) --no-print-directory test-postgres || status=1; \
	exit $$status

test-sqlite: venv
	env -u TEST_DATABASE_URL $(PY) -m pytest -q -n $(PYTEST_WORKERS) --ignore=tests/postgres $(PYTEST_ARGS)

test-postgres: venv
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -q -n $(PYTEST_WORKERS) tests/api tests/postgres $(PYTEST_ARGS)

# Style and types, configured in pyproject.toml (issue 19).
lint: venv
	$(VENV)/bin/ruff check src tests bench migrations
	$(VENV)/bin/mypy src

lint-imports: venv
	$(VENV)/bin/lint-imports

# Phase 8 rehearsed (MIGRATION_PLAN.md): a copy of the tree without src/flask_app and
# requirements-legacy.txt, a fresh venv (flask not importable), lint-imports, `make test` there,
# and the run command answering /api and /api/v2 from FastAPI. .ci/run calls it.
rehearse-removal:
	scripts/rehearse_removal.sh

# Benchmarks (issue 6, docs/PERFORMANCE.md): run on a quiet machine; figures are printed, never asserted.
# BENCH_ARGS=--postgres adds the API benchmark on PostgreSQL, --shadow the shadow-read benchmark.
BENCH_ARGS ?=
bench: venv bench-tools
	$(PY) -m bench.run $(BENCH_ARGS)

# Under 5 minutes: the API benchmark on SQLite, one round, and the scheduler benchmark.
bench-quick: venv bench-tools
	$(PY) -m bench.run --quick

# wrk drives the API benchmark; nginx fronts both doors as in production. Both from Debian.
bench-tools:
	@missing=""; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing </dev/null; \
	  service nginx stop >/dev/null 2>&1 || true; \
	fi
