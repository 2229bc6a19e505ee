# The two commands of the README: `make run` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SDK := sdk/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt $(SDK)/requirements-test.txt $(SDK)/pyproject.toml | sha256sum | cut -c1-12)
PORT ?= 8000
# `make test-all`: the local services the skipped groups need (override any, e.g. make test-all HITL_TEST_REDIS_URL=...).
HITL_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
HITL_TEST_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672//
HITL_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/hitl_test_all

.PHONY: run test test-all bench lint venv migrate seed messages clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt $(SDK)/requirements-test.txt $(SDK)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	# The integrator SDK with every framework extra: an extra that cannot install fails here.
	$(BIN)/pip install --quiet -r $(SDK)/requirements-test.txt -e '$(SDK)[all]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

migrate: venv
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

run: migrate
	mkdir -p var/broker var/broker-processed
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo
	@echo "  hitlplatform is starting on http://127.0.0.1:$(PORT)/"
	@echo "    reviewer app   http://127.0.0.1:$(PORT)/review/"
	@echo "    API docs       http://127.0.0.1:$(PORT)/api/v1/docs/"
	@echo "    admin          http://127.0.0.1:$(PORT)/admin/"
	@echo "  demo logins (password for all: demo-pass-2024):"
	@echo "    reviewer, second_reviewer, senior_reviewer, compliance_reviewer, compliance_officer, admin"
	@echo "  an API token for one of them: env DEBUG=1 $(BIN)/python manage.py issue_token reviewer"
	@echo
	@# honcho gives a process 5 s after SIGTERM before a SIGKILL; an idle worker on the filesystem
	@# broker needs 5 to 8 s for its warm shutdown (its poll loop notices the signal within 3 s).
	DEBUG=1 PORT=$(PORT) $(BIN)/python -c 'import sys, honcho.command, honcho.manager; sys.argv[0] = "honcho"; honcho.manager.KILL_WAIT = 20; honcho.command.main()' \
	  start -f Procfile || test $$? -eq 130  # 130: stopped by Ctrl-C, as it should be

# The suite in TEST_PROCESSES processes (pytest-xdist; each gets its own test database); 0 runs it in one.
TEST_PROCESSES ?= 2
test: venv
	$(BIN)/pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

# The suite as CI runs it (.ci/run): `make test` with Redis and RabbitMQ, once on SQLite and once on
# PostgreSQL (pytest creates and drops test_<name>_gw<N> itself); a missing service fails instead of skipping.
TEST_SERVICES = HITL_TEST_REDIS_URL=$(HITL_TEST_REDIS_URL) HITL_TEST_AMQP_URL=$(HITL_TEST_AMQP_URL) HITL_REQUIRE_SERVICES=1
test-all: venv
	env -u DATABASE_URL $(TEST_SERVICES) $(MAKE) test
	env DATABASE_URL=$(HITL_TEST_DATABASE_URL) $(TEST_SERVICES) $(MAKE) test

bench: venv
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

messages: venv
	DEBUG=1 $(BIN)/python manage.py makemessages -l de -l fr --ignore=.venv --ignore=tests
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var db.sqlite3*
