# Goodwill - every target installs what it needs into .venv (project) and .venv-sam (SAM CLI).
SHELL := /bin/bash
PYTHON ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)
VENV := .venv
SAMVENV := .venv-sam
UV_VERSION := 0.13.9
SAM_VERSION := 1.170.0
CHECKOVVENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
BIN := $(VENV)/bin
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/goodwill
export SAM_CLI_TELEMETRY := 0
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
PYTEST_ARGS ?=

.PHONY: install install-sam install-checkov browser local demo test test-only lint format bench bench-quick build deploy deploy-console requirements clean screenshots

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml uv.lock
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found (pyenv install 3.13.0)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --quiet
	@touch $@

install-sam: $(SAMVENV)/.installed
$(SAMVENV)/.installed:
	@test -x $(SAMVENV)/bin/python || $(PYTHON) -m venv $(SAMVENV)
	$(SAMVENV)/bin/python -m pip install -q --disable-pip-version-check "aws-sam-cli==$(SAM_VERSION)"
	@touch $@

# checkov pins its own dependencies (boto3 among them): its own environment, like the SAM CLI's.
install-checkov: $(CHECKOVVENV)/.installed
$(CHECKOVVENV)/.installed:
	@test -x $(CHECKOVVENV)/bin/python || $(PYTHON) -m venv $(CHECKOVVENV)
	$(CHECKOVVENV)/bin/python -m pip install -q --disable-pip-version-check "checkov==$(CHECKOV_VERSION)"
	@touch $@

## Run the whole system locally on moto (no AWS account, no Docker): API on 127.0.0.1:3000
local: install
	$(BIN)/python -m local.devserver.server

## Start the local system, play a scripted scenario through the HTTP API, print what happened
demo: install
	$(BIN)/python -m local.tools.demo

## Debian's Chromium (and a font) for the console's browser tests; CI runs as root on a fresh machine
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium fonts-dejavu-core)

## PNGs of the console's main screens in docs/console/ (the browser tests' own steps, on a fresh local run)
screenshots: install browser
	$(BIN)/python -m tests.console.screens

## Lint + the whole test suite (what CI runs)
test: install install-sam browser lint test-only

test-only: install browser
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --durations=25 $(PYTEST_ARGS)

lint: install install-sam install-checkov
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/goodwill/goodwill functions bench ops local
	$(BIN)/cfn-lint template.yaml
	PYENV_VERSION=3.13.0 $(SAMVENV)/bin/sam validate --lint --template template.yaml --region us-east-1
	$(SAMVENV)/bin/python -m local.tools.sam_transform .aws-sam/checkov/template.json
	$(CHECKOVVENV)/bin/checkov --config-file .checkov.yaml -f template.yaml -f .aws-sam/checkov/template.json

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

bench-quick: install
	$(BIN)/python -m bench --quick

requirements: install
	$(BIN)/uv export --frozen --no-dev --no-hashes --no-emit-project --quiet \
		| grep -v '^#' | grep -v '^boto' | grep -v '^ *#' > layers/goodwill/requirements.generated.txt

build: install-sam
	PYENV_VERSION=3.13.0 PATH="$$(dirname $(PYTHON)):$$PATH" $(SAMVENV)/bin/sam build --template template.yaml
	# sam build ships no byte code and /opt is read-only: compile the layer once, here (cold start 1,279 -> 490 ms).
	$(PYTHON) -m compileall -q --invalidation-mode unchecked-hash .aws-sam/build/GoodwillLayer/python
	# The console as CloudFront serves it: its files (no build step of its own), without the docs.
	rm -rf .aws-sam/console && mkdir -p .aws-sam/console && cp -R console/. .aws-sam/console/
	rm -f .aws-sam/console/README.md .aws-sam/console/config.json

STACK_NAME ?= goodwill

## sam deploy, then the console's files and its config.json (from the stack's outputs)
deploy: build
	$(SAMVENV)/bin/sam deploy --guided --stack-name $(STACK_NAME)
	$(MAKE) deploy-console

deploy-console: install
	@test -f .aws-sam/console/index.html || { echo "run make build first"; exit 1; }
	$(BIN)/python -m ops.deploy_console --stack-name $(STACK_NAME) --source .aws-sam/console

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
