# 有識者会議 意見ポータル — every target does its own set-up.
#   make run    serve the portal with the seed data (SQLite unless DATABASE_URL is set)
#   make test   the whole suite against PostgreSQL (DATABASE_URL, default: local server)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_DEFAULT_URL := postgres://postgres@127.0.0.1:5432/portal
SEED_DB := $(CURDIR)/.seed-build.sqlite3

# The benchmark's own database: dropped and recreated by make bench, never the dev or test one.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
# Its own Redis database number too: the benchmark clears the cache between requests.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint format fixtures lock clean bench bench-clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	@touch $@

install: $(STAMP)

run: export DJANGO_DEBUG ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_seed
	@echo "意見ポータル: http://127.0.0.1:8000/"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: export DATABASE_URL ?= $(PG_DEFAULT_URL)
test: install
	@DJANGO_DEBUG=1 $(BIN)/python manage.py check_database
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: export DJANGO_DEBUG ?= 1
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	set -a && source .env.example && set +a && $(BIN)/python manage.py check --deploy --fail-level WARNING

# Seed, 100k and 1M remarks: load, time every page, wrk against gunicorn, bench/results.md.
# Heavy (about half an hour on 2 cores); see bench/README.md. BENCH_ARGS="--sizes 100000" etc.
bench: install
	REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench.run --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

bench-clean:
	$(BIN)/python -c "import sys; from bench.run import drop_database; drop_database(sys.argv[1])" $(BENCH_DATABASE_URL)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate fixtures/seed.json from the committee's document through the importer.
fixtures: export DJANGO_DEBUG = 1
fixtures: export DATABASE_URL = sqlite:///$(SEED_DB)
fixtures: install
	rm -f $(SEED_DB)
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py loaddata fixtures/source/committee.json
	$(BIN)/python manage.py import_summary fixtures/source/000_7e59f9f179f907ca.txt \
		--committee dai2ki-sogo-senryaku --meeting 1 --meeting 2 \
		--labels fixtures/source/theme_labels.tsv
	$(BIN)/python manage.py import_tags
	$(BIN)/python manage.py dumpdata --indent 1 --output fixtures/seed.json \
		opinions.committee opinions.meeting opinions.sourcedocument opinions.theme \
		opinions.municipalitysize opinions.stakeholder opinions.tagrule opinions.opinion
	rm -f $(SEED_DB)

lock: install
	{ echo "# Exact versions installed by make (pip install -c requirements.lock). Regenerate: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock

clean:
	rm -rf $(VENV) staticfiles .pytest_cache db.sqlite3 $(SEED_DB)
