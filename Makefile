# Doorstep. `make demo` builds and serves the demo; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# test-postgres runs on the PostgreSQL server PG_URL (or DATABASE_URL) names; given none, on a
# throwaway server of its own (initdb in a temporary folder, a free port), removed at the end.
PG_URL ?=
# More for pytest, e.g. PYTEST_ARGS="doorstep/lab/tests/test_results.py -x".
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite test-postgres test-ha lint messages translations bench bench-ha bench-city bench-pretix bench-taps clean

$(BIN)/doorstep: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# Compiled translations are build output, made from the committed .po files.
messages: $(BIN)/doorstep
	cd doorstep && DOORSTEP_DEBUG=1 ../$(BIN)/doorstep compilemessages --verbosity 0

# After changing user-facing text: refresh the catalogue, then translate the new entries.
translations: $(BIN)/doorstep
	cd doorstep && DOORSTEP_DEBUG=1 ../$(BIN)/doorstep makemessages -l zh_Hans --no-location --no-obsolete

# What the browser tests load into pages (axe-core, for the accessibility check), from npm.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The demo's text messages go through a real Kannel with a fake SMS centre when Kannel is
# installed (apt-get install kannel kannel-extras); without it they wait in the outbox.
demo: $(BIN)/doorstep messages
# (DOORSTEP_DEBUG=1 for the gateway's own commands only: on a fresh machine the demo's secret
# key does not exist yet, and these commands serve nothing.)
	@DOORSTEP_DEBUG=1 $(BIN)/doorstep sms up --if-needed || echo "(no SMS gateway: messages wait in the outbox)"
	DOORSTEP_SMS_URL="$$(DOORSTEP_DEBUG=1 $(BIN)/doorstep sms url 2>/dev/null)" $(BIN)/doorstep demo $(DEMO_ARGS)

lint: $(BIN)/doorstep
	$(BIN)/ruff check doorstep bench
	$(BIN)/ruff format --check doorstep bench
	DOORSTEP_DEBUG=1 $(BIN)/mypy doorstep
	DOORSTEP_DEBUG=1 DOORSTEP_HOME=$$(mktemp -d) $(BIN)/doorstep makemigrations --check --dry-run

test-sqlite: $(BIN)/doorstep messages $(AXE)
	env -u DATABASE_URL $(BIN)/pytest -m "not ha" $(PYTEST_ARGS)

test-postgres: $(BIN)/doorstep messages $(AXE)
	$(if $(PG_URL),DATABASE_URL=$(PG_URL)) $(BIN)/pytest --postgres -m "not ha" $(PYTEST_ARGS)

# The failover, city and restore tests build three PostgreSQL nodes of their own (Patroni,
# etcd) with HAProxy, PgBouncer and pgBackRest, and kill what a city loses.
test-ha: $(BIN)/doorstep messages
	env -u DATABASE_URL $(BIN)/pytest -m ha $(PYTEST_ARGS)

# The two databases' suites run side by side (the machine has 2 cores); each one's output is
# printed whole when it ends, and either failing fails the run.
test: lint
	$(MAKE) --no-print-directory --output-sync=target -j2 test-sqlite test-postgres
	$(MAKE) --no-print-directory test-ha

bench: $(BIN)/doorstep messages
	@command -v wrk >/dev/null || { echo "bench/events.py needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/events.py --pretix

# Failovers under load: synchronous and asynchronous (the control), the standby lost, the
# server and the primary at once; ingest with and without the synchronous standby.
bench-ha: $(BIN)/doorstep messages
	$(BIN)/python bench/failover.py $(BENCH_ARGS)

# A city's peak on one machine: lanes through HAProxy while residents flood the status page,
# an app node and the primary killed, the restore drill (HAProxy, PgBouncer, Patroni, pgBackRest).
bench-city: $(BIN)/doorstep messages
	$(BIN)/python bench/city.py $(BENCH_ARGS)

# pretix's check-in redeem beside Doorstep's scan (for Doorstep ÷ pretix): pretix installs into
# a venv of its own under ~/.cache/doorstep-bench on the first run. PRETIX_ARGS="--seconds 20".
bench-pretix: $(BIN)/doorstep
	$(BIN)/python bench/pretix.py $(PRETIX_ARGS)

# Door-to-door taps through serve on PostgreSQL (singles and outbox replays): CPU-seconds per
# tap beside a one-INSERT view in the same run, counters checked against a recount. TAPS_ARGS="--seconds 20".
bench-taps: $(BIN)/doorstep messages
	@command -v wrk >/dev/null || { echo "bench/taps.py needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/taps.py $(TAPS_ARGS)

clean:
	rm -rf $(VENV) var node_modules
