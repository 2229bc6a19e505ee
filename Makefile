# The two commands of the README: `make run` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SDK := sdk/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt $(SDK)/requirements-test.txt $(SDK)/pyproject.toml | sha256sum | cut -c1-12)
PORT ?= 8000

.PHONY: run test bench lint venv migrate seed messages clean

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
	@echo "    reviewer, second_reviewer, senior_reviewer, compliance_officer, admin"
	@echo
	DEBUG=1 PORT=$(PORT) $(BIN)/honcho start -f Procfile

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

messages: venv
	DEBUG=1 $(BIN)/python manage.py makemessages -l de -l fr --ignore=.venv --ignore=tests
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var db.sqlite3*
