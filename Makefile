# 有識者会議 意見ポータル — every target does its own set-up.
#   make run    serve the portal with the seed data (SQLite unless DATABASE_URL is set)
#   make test   the whole suite against PostgreSQL (DATABASE_URL, default: local server)
#   make outage PostgreSQL restarted under load (its own throwaway cluster, 1–1½ minutes)
#   make scaleout primary + replica, PgBouncer, Redis, two app servers behind HAProxy (~2 min)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_DEFAULT_URL := postgres://postgres@127.0.0.1:5432/portal
SEED_DB := $(CURDIR)/.seed-build.sqlite3
# Every language's catalogue (locale/<lang>/LC_MESSAGES/django.po), compiled to the .mo Django
# reads. The .mo files are not committed: Babel compiles them here, so no GNU gettext is needed.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

# The benchmark's own database: dropped and recreated by make bench, never the dev or test one.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
# Its own Redis database number too: the benchmark clears the cache between requests.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install messages run serve test test-browser outage scaleout concurrency security lint format fixtures import-fixtures lock clean bench bench-clean render-exports
# A recipe that fails leaves no half-made target behind (a .mo from a catalogue with errors).
.DELETE_ON_ERROR:

NODE_STAMP := node_modules/.installed

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	@touch $@

# axe-core, injected into pages by the browser tests (package-lock.json pins it).
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the browser tests' accessibility checks will be skipped"; fi

install: $(STAMP) messages

messages: $(MO_FILES)

# Babel skips (without failing) a catalogue whose header is marked fuzzy: make that an error.
%.mo: %.po | $(STAMP)
	@rm -f $@
	$(BIN)/pybabel --quiet compile --input-file $< --output-file $@
	@test -s $@ || { echo "$<: not compiled (remove the '#, fuzzy' flag from its header)" >&2; exit 1; }

run: export DJANGO_DEBUG ?= 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_seed
	$(BIN)/python manage.py analyse
	@echo "意見ポータル: http://127.0.0.1:8000/"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# Production mode: gunicorn, hashed and compressed static files, settings from the
# environment (see .env.example; DJANGO_SECRET_KEY and DATABASE_URL are required).
# Threaded workers: a sync worker is killed after --timeout even while it streams, which
# cut a full export of a million remarks (30 s) mid-file behind a 200; a gthread worker's
# heartbeat does not wait for its requests.
# gunicorn's default access line, with X-Forwarded-For after the peer (the proxy): the
# client's address as the proxies reported it (README, Security).
ACCESS_LOG_FORMAT := %(h)s %({x-forwarded-for}i)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"
serve: install
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn portal.wsgi --bind $${BIND:-127.0.0.1:8000} --workers $${WEB_CONCURRENCY:-3} \
		--worker-class gthread --threads $${WEB_THREADS:-4} \
		--timeout 30 --graceful-timeout 20 --access-logfile - --error-logfile - \
		--access-logformat '$(ACCESS_LOG_FORMAT)'

# The suite on TEST_WORKERS processes (pytest-xdist, each with its own test database; 0 for
# one process), then alone the tests marked serial: they time themselves or race threads,
# and another process's work on the same cores would be part of what they measure. Exit
# status 5 is pytest's "nothing selected" (PYTEST_ARGS naming tests of one part only).
TEST_WORKERS ?= 2
PYTEST_IN_PARALLEL = $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial"
PYTEST_ALONE = $(BIN)/python -m pytest -m serial

test: export DATABASE_URL ?= $(PG_DEFAULT_URL)
test: install $(NODE_STAMP)
	@DJANGO_DEBUG=1 $(BIN)/python manage.py check_database
	$(PYTEST_IN_PARALLEL) $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PYTEST_ALONE) $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Only the browser journeys (Chromium + axe-core); screenshots land in artifacts/browser/.
test-browser: export DATABASE_URL ?= $(PG_DEFAULT_URL)
test-browser: install $(NODE_STAMP)
	$(BIN)/python -m pytest tests/test_browser.py $(PYTEST_ARGS)

# The exports rendered by LibreOffice (Debian's libreoffice and poppler-utils) — 主なご意見 as
# Word, the list as XLSX, 「ご意見と対応」 in DOCX and XLSX — and the hand-outs printed by
# Chromium: PDFs and PNGs in artifacts/exports/ and artifacts/browser/, the first pages as PNG
# also in docs/screenshots/.
render-exports: export DATABASE_URL ?= $(PG_DEFAULT_URL)
render-exports: install $(NODE_STAMP)
	$(BIN)/python -m pytest tests/test_exporters.py tests/test_response_exporters.py -q \
		-k libreoffice $(PYTEST_ARGS)
	$(BIN)/python -m pytest tests/test_browser.py -q -k hand_outs_print $(PYTEST_ARGS)
	cp artifacts/exports/summary-docx.png docs/screenshots/summary-export-docx.png
	cp artifacts/exports/list-xlsx.png docs/screenshots/list-export-xlsx.png
	cp artifacts/exports/ledger-docx.png docs/screenshots/responses-export-docx.png
	cp artifacts/exports/ledger-xlsx.png docs/screenshots/responses-export-xlsx.png
	cp artifacts/browser/test_hand_outs_print_with_a_title_block_page_numbers_and_every_number-list.png \
		docs/screenshots/print-list.png
	cp artifacts/browser/test_hand_outs_print_with_a_title_block_page_numbers_and_every_number-crosstab.png \
		docs/screenshots/print-crosstab.png

# A database outage under load (bench/outage.py): its own PostgreSQL cluster on a free loopback
# port, never the server on 5432; gunicorn, readers and submissions while PostgreSQL restarts.
# Options: make outage OUTAGE_ARGS="--stop-mode immediate --down 6" (see --help).
outage: install
	$(BIN)/python -m bench.outage $(OUTAGE_ARGS)

# Scale-out on loopback (bench/scaleout.py): a PostgreSQL primary and a streaming replica
# (clusters of their own on free ports), PgBouncer in transaction mode, Redis, two gunicorn app
# servers as make serve runs them behind HAProxy; wrk against one server, then both, while
# members submit. Requests/s, the replica's lag, no failed request, no lost write; about
# 2 minutes. Results: artifacts/scaleout/ and bench/results.md. SCALEOUT_ARGS="--help".
SCALEOUT_TOOLS := pgbouncer haproxy wrk
scaleout: install
	@missing=""; for tool in $(SCALEOUT_TOOLS); do PATH="$$PATH:/usr/sbin" command -v $$tool >/dev/null \
		|| missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then if [ "$$(id -u)" -eq 0 ]; then apt-get install -y -qq $$missing; \
		else sudo apt-get install -y -qq $$missing; fi; fi
	$(BIN)/python -m bench.scaleout $(SCALEOUT_ARGS)

# SQL injection scan (bench/security.py): the portal in production mode on a free loopback
# port, on its own database (SECURITY_DATABASE_URL, dropped afterwards), sqlmap from Debian over
# every GET parameter of the list, the API and the exports as 事務局, at most
# SECURITY_SECONDS per target; fails on any finding. Results: artifacts/security/summary.md.
SECURITY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_sqlmap
SECURITY_SECONDS ?= 600
security: install
	@command -v sqlmap >/dev/null || { if [ "$$(id -u)" -eq 0 ]; then apt-get install -y -qq sqlmap; \
		else sudo apt-get install -y -qq sqlmap; fi; }
	SECURITY_DATABASE_URL=$(SECURITY_DATABASE_URL) $(BIN)/python -m bench.security \
		--seconds-per-target $(SECURITY_SECONDS) $(SECURITY_ARGS)

lint: export DJANGO_DEBUG ?= 1
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	# The production settings of .env.example, but a generated key (its placeholder is public,
	# which check --deploy refuses) and no Redis (lint checks the settings, not servers).
	set -a && source .env.example && set +a && \
		DJANGO_SECRET_KEY=$$($(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))") \
		REDIS_URL= $(BIN)/python manage.py check --deploy --fail-level WARNING

# Writers at once on PostgreSQL: the concurrency test for 60 s with 8 members, then writes/s
# with and without the triggers (bench/writers.py, its own database portal_bench_writers).
concurrency: export DATABASE_URL ?= $(PG_DEFAULT_URL)
concurrency: install
	CONCURRENCY_SECONDS=60 CONCURRENCY_MEMBERS=8 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_concurrency.py
	$(BIN)/python -m bench.writers $(WRITERS_ARGS)

# Seed, 100k and 1M remarks: load, time every page, wrk against gunicorn, bench/results.md.
# Heavy (about half an hour on 2 cores); see bench/README.md. BENCH_ARGS="--sizes 100000" etc.
bench: install
	REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m bench.run --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

bench-clean:
	$(BIN)/python -c "import sys; from bench.run import drop_database; drop_database(sys.argv[1])" $(BENCH_DATABASE_URL)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate the import tests' LibreOffice-made PDFs of the portal's own exports
# (needs Debian's libreoffice-writer-nogui and fonts-noto-cjk).
import-fixtures: export DJANGO_DEBUG = 1
import-fixtures: install
	DJANGO_SETTINGS_MODULE=portal.settings $(BIN)/python -c "import django; django.setup(); \
		import runpy; runpy.run_path('tests/fixtures/import/make_fixtures.py', run_name='__main__')"

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
	rm -rf $(VENV) node_modules artifacts staticfiles .pytest_cache db.sqlite3 $(SEED_DB) $(MO_FILES)
