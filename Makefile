# servicedesk: `make run` starts the product with demo data, `make test` runs the tests,
# `make e2e` the users' journeys in a real browser.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test e2e lint format messages install clean

# Each install step runs again only when its lock file changed.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
locale/%.mo: locale/%.po
	msgfmt --check -o $@ $<

install: $(VENV)/.installed node_modules/.installed $(MO_FILES)

run: install
	DEBUG=$${DEBUG:-1} PORT=$(PORT) bin/run-dev

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The journeys drive Debian's chromium (never a downloaded browser); CJK fonts render the Chinese.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; \
	else echo "No browser at $(CHROMIUM): sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; fi

e2e: install | $(CHROMIUM)
	$(BIN)/pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the translation catalogues after changing user-facing strings.
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=node_modules --ignore=.venv

clean:
	rm -rf $(VENV) node_modules staticfiles var db.sqlite3

# The soak (bench/soak.py): 10 minutes of mixed traffic on its own PostgreSQL and Redis, a worker
# killed and Redis restarted mid-way; prints a JSON summary, fails if anything was lost or doubled.
# SOAK_ARGS adds options, e.g. SOAK_ARGS="--seconds 60" or SOAK_ARGS=--use-env.
.PHONY: soak
soak: $(VENV)/.installed
	$(BIN)/python -m bench soak --seconds 600 $(SOAK_ARGS)
