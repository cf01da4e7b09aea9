# clinvault — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export CLINVAULT_HOME ?= $(CURDIR)/var
HOST ?= $(or $(CLINVAULT_HOST),127.0.0.1)
PORT ?= $(or $(CLINVAULT_PORT),8000)
PYTEST_ARGS ?= -n auto

.PHONY: run test venv system-deps lint typecheck lock bench clean deploy-test

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

## make run: install, migrate, load the demo, serve on http://$(HOST):$(PORT); the demo password
## is generated once and kept in $(CLINVAULT_HOME)/demo-password (0600), printed on every run.
run: venv
	$(BIN)/clinvault migrate
	CLINVAULT_HOST=$(HOST) CLINVAULT_PORT=$(PORT) $(BIN)/clinvault demo
	CLINVAULT_HOST=$(HOST) CLINVAULT_PORT=$(PORT) $(BIN)/clinvault serve

## axe-core (npm, pinned) for the browser accessibility check, kept under $(TOOLS).
TOOLS       := .tools
AXE_VERSION := 4.10.3
AXE_JS      := $(TOOLS)/node_modules/axe-core/axe.min.js

## Debian packages the tests need (browser, qpdf, libmagic, clamd, and Ghostscript and LibreOffice
## Writer as PDF producers for the file-check corpus, npm for axe-core), installed when missing as root.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v qpdf >/dev/null 2>&1 || missing="$$missing qpdf"; \
	[ -e /usr/lib/x86_64-linux-gnu/libmagic.so.1 ] || ldconfig -p | grep -q libmagic.so.1 || missing="$$missing libmagic1"; \
	command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ] || missing="$$missing clamav-daemon"; \
	command -v gs >/dev/null 2>&1 || missing="$$missing ghostscript"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-writer-nogui"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (install them as root)"; fi; \
	fi
	@[ -f $(AXE_JS) ] || ! command -v npm >/dev/null 2>&1 || \
	  npm install --prefix $(TOOLS) --no-audit --no-fund --no-save --silent axe-core@$(AXE_VERSION)

## make test: the whole suite against SQLite, then against PostgreSQL
test: venv system-deps
	CLINVAULT_TEST_DATABASE=sqlite $(BIN)/pytest $(PYTEST_ARGS)
	CLINVAULT_TEST_DATABASE=postgresql $(BIN)/pytest $(PYTEST_ARGS)

DEPLOY_STAMP  := $(VENV)/.deploy-installed
CHECKOV_VENV  := .venv-checkov

$(DEPLOY_STAMP): deploy/aws/requirements.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r deploy/aws/requirements.txt
	touch $(DEPLOY_STAMP)

$(CHECKOV_VENV)/.installed: deploy/aws/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r deploy/aws/requirements-checkov.txt
	touch $(CHECKOV_VENV)/.installed

## make deploy-test: synthesize the AWS CDK app and check it (assertions, cfn-lint, checkov, cdk-nag)
deploy-test: $(DEPLOY_STAMP) $(CHECKOV_VENV)/.installed
	$(BIN)/ruff check deploy/aws
	JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 $(BIN)/pytest deploy/aws/tests -q

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: venv
	$(BIN)/mypy

## Re-pin requirements.lock from pyproject.toml
lock: venv
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

## make bench: every benchmark (PostgreSQL at 127.0.0.1:5432 for the HTTP ones); docs/benchmarks.md
BENCH_PATIENTS ?= 100000
bench: venv
	$(BIN)/python bench/crypto_stream.py
	$(BIN)/python bench/upload.py
	$(BIN)/python bench/upload_scaling.py
	$(BIN)/python bench/reads.py --workers 1,2
	$(BIN)/python bench/logins.py
	$(BIN)/python bench/portal.py
	$(BIN)/python bench/search.py --patients $(BENCH_PATIENTS)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
