# Two commands do everything on a fresh machine with Python 3.11, make and git:
#   make run   — virtualenv, install, keys, migrate, broker + all five services (Ctrl-C stops all)
#   make test  — virtualenv, install, lint, types, import rules, the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SERVICES := catalog provisioning rating invoicing overage

ifdef KAFKA_BOOTSTRAP_SERVERS
export EXTERNAL_KAFKA := $(KAFKA_BOOTSTRAP_SERVERS)
else
export KAFKA_BOOTSTRAP_SERVERS := 127.0.0.1:9092
endif
export API_KEYS_FILE ?= $(CURDIR)/var/api-keys
export PYTHONUNBUFFERED := 1

.PHONY: install run migrate keys test lint types imports pytest bench bench-usage bench-entitlements bench-billrun rating-faults contracts-docs republish dead-letters load-usage bill-run collections-run compose-up compose-down clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

keys: install
	@mkdir -p var
	@$(BIN)/python -m libs.platform.cli keys $(API_KEYS_FILE) > var/admin-key

migrate: install
	$(BIN)/python -m libs.platform.cli migrate $(SERVICES)

run: install keys migrate
	@echo ""
	@echo "Broker        $(KAFKA_BOOTSTRAP_SERVERS)"
	@echo "catalog       http://127.0.0.1:8001   docs http://127.0.0.1:8001/docs"
	@echo "provisioning  http://127.0.0.1:8002   docs http://127.0.0.1:8002/docs"
	@echo "rating        http://127.0.0.1:8003   docs http://127.0.0.1:8003/docs"
	@echo "invoicing     http://127.0.0.1:8004   docs http://127.0.0.1:8004/docs"
	@echo "overage       http://127.0.0.1:8005   docs http://127.0.0.1:8005/docs"
	@echo "Admin API key $$(cat var/admin-key)   (all keys: $(API_KEYS_FILE))"
	@echo "Ctrl-C stops everything."
	@echo ""
	CATALOG_API_KEY=$$($(BIN)/python -m libs.platform.cli keys $(API_KEYS_FILE) --role crm) $(BIN)/honcho start -f Procfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy libs $(foreach s,$(SERVICES),services/$(s)/$(s))

imports: install
	$(BIN)/lint-imports

# The suite waits on brokers, services and timers far more than it computes: several workers
# (pytest-xdist; each has its own broker, databases and ports) finish it sooner on 2 cores.
PYTEST_WORKERS ?= 3
pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS)

test: lint types imports pytest

bench: install
	$(BIN)/python -m bench

# 1,000,000 usage events through POST /v1/usage and usage.raw, one and two rating processes.
#   make bench-usage USAGE_EVENTS=200000 USAGE_ARGS="--usage-rss-events 5000000"
#   make bench-usage RATING_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres
USAGE_EVENTS ?= 1000000
bench-usage: install
	$(BIN)/python -m bench usage --usage-events $(USAGE_EVENTS) $(USAGE_ARGS)

bench-entitlements: install
	$(BIN)/python -m bench entitlements $(ENTITLEMENT_ARGS)

# One bill run of 100,000 accounts (read model seeded in bulk: two monthly subscriptions and a rated
# usage each) through the real invoice engine, SQLite (and PostgreSQL with BILLRUN_BENCH_DATABASE_URL),
# one and two invoicing processes, then the same run again (a no-op).
#   make bench-billrun BILLRUN_ACCOUNTS=20000 BILLRUN_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres
BILLRUN_ACCOUNTS ?= 100000
bench-billrun: install
	$(BIN)/python -m bench billrun --billrun-accounts $(BILLRUN_ACCOUNTS) $(BILLRUN_ARGS)

# SIGKILL of the rating process and of the local broker in the middle of a 1M-event run.
rating-faults: install
	RATING_FAULTS=1 $(BIN)/pytest -q -p no:randomly tests/rating/faults

contracts-docs: install
	$(BIN)/python -m libs.contracts.docs

republish: install
	@test -n "$(SERVICE)" || (echo "usage: make republish SERVICE=catalog [SINCE=2026-11-01T00:00:00+00:00] [PARKED=1]"; exit 2)
	$(BIN)/python -m libs.platform.cli republish $(SERVICE) $(if $(SINCE),--since $(SINCE)) $(if $(PARKED),--parked)

dead-letters: install
	@test -n "$(SERVICE)" || (echo "usage: make dead-letters SERVICE=provisioning [REPLAY=all|<id>]"; exit 2)
	$(BIN)/python -m libs.platform.cli dead-letters $(if $(REPLAY),replay $(SERVICE) $(if $(filter all,$(REPLAY)),--all,--id $(REPLAY)),list $(SERVICE))

load-usage: install
	@test -n "$(FILE)" || (echo "usage: make load-usage FILE=usage.csv [URL=http://127.0.0.1:8003] [FORMAT=csv|ndjson]"; exit 2)
	$(BIN)/python -m rating.cli load-usage $(FILE) $(if $(URL),--url $(URL)) $(if $(FORMAT),--format $(FORMAT))

# A bill run on the invoicing database, its progress printed until it finishes (the running
# invoicing replicas do the work; LOCAL=1 does it in this process).
bill-run: install
	@test -n "$(DATE)" || (echo "usage: make bill-run DATE=2026-08-01 [LOCAL=1] [DRY_RUN=1]"; exit 2)
	$(BIN)/python -m invoicing.cli bill-run --date $(DATE) --watch $(if $(LOCAL),--local) $(if $(DRY_RUN),--dry-run)

collections-run: install
	@test -n "$(DATE)" || (echo "usage: make collections-run DATE=2026-10-31"; exit 2)
	$(BIN)/python -m invoicing.cli collections-run --date $(DATE)

compose-up:
	docker compose up --build -d

compose-down:
	docker compose down -v

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
