# kesu 客诉 — two commands do all set-up on a fresh machine: `make run` and `make test`.
# Needs Python 3.11, Java 17 and Maven; everything else is installed here, into .venv/ and
# deploy/kafka/ (both git-ignored).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
KAFKA_VERSION := $(shell sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' deploy/kafka/pom.xml)
KAFKA_JARS := deploy/kafka/lib/.resolved-$(KAFKA_VERSION)

PHONY_EXTRA := browser-deps promtool-deps
.PHONY: help install run test test-unit reliability reliability-loop lint fmt schemas readme eval eval-surge bench bench-noise clean $(PHONY_EXTRA)

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml constraints.txt $(wildcard setup.py) complaints/polarity/_kernel.c
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "kesu needs Python 3.11 (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

$(KAFKA_JARS): deploy/kafka/pom.xml | $(INSTALLED)
	$(BIN)/python -c 'from kesu.broker import ensure_jars; ensure_jars()'

# The dashboard test drives Debian's Chromium; a fresh machine has no CJK font either.
BROWSER_STAMP := .venv/.browser-deps
$(BROWSER_STAMP): | $(INSTALLED)
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
	  echo "Installing Debian's chromium and fonts-noto-cjk for the dashboard test…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; \
	fi
	@touch $@

browser-deps: $(BROWSER_STAMP) ## Install Chromium and a CJK font (Debian packages) for the dashboard test

# `promtool check rules deploy/prometheus/alerts.yml` runs in the tests; Debian ships promtool in
# its `prometheus` package (which also installs the server; on a systemd host it starts one).
PROMTOOL_STAMP := .venv/.promtool-deps
$(PROMTOOL_STAMP): | $(INSTALLED)
	@if ! command -v promtool >/dev/null; then \
	  echo "Installing Debian's prometheus package for promtool (checks deploy/prometheus/alerts.yml)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus; \
	fi
	@touch $@

promtool-deps: $(PROMTOOL_STAMP) ## Install promtool (Debian's prometheus package) for the alert-rules test

install: $(INSTALLED) $(KAFKA_JARS) ## Create .venv and fetch the Kafka jars (done by run/test too)

run: install ## Start Kafka, the worker and the API here (Ctrl-C stops all)
	$(BIN)/kesu run

test: install browser-deps promtool-deps ## Run every test (unit, real-broker integration, headless Chromium, promtool) and check the shipped scorer rebuilds byte for byte
	$(BIN)/pytest
	$(BIN)/python bench/tune_scorer.py --check > /dev/null

test-unit: install ## Run only the tests that need no broker
	$(BIN)/pytest tests/unit

reliability: install ## Trials of ../shared/test-plan.md (R1 worker kill -9, R3 broker kill -9, R4 one of two workers killed, R5 actions while the worker is down, R7 the exactly-once experiment (report only), H4 schemathesis with >= 1,000 cases, H3 properties with 2,000 examples each; and again the trials make test runs: R6 poison pills, H1/H2 hostile input, S1 auth matrix, S2 personal data, S3 limits); prints the trials table; not part of `make test`
	$(BIN)/pytest -m reliability -s
	KESU_FUZZ_EXAMPLES=40 $(BIN)/pytest -s tests/integration/test_api_fuzz.py
	KESU_PROPERTY_EXAMPLES=2000 $(BIN)/pytest -q $$(grep -rl PROPERTY_EXAMPLES tests/unit)
	$(BIN)/pytest -s tests/integration/test_validate.py tests/integration/test_poison.py tests/integration/test_ingest_http.py tests/integration/test_api_alerts.py tests/integration/test_personal_data.py tests/integration/test_api_limits.py

reliability-loop: install ## R1, R4 and the never-committed reproduction RUNS times in a row (default 50) on one broker; prints the trials table
	KESU_TRIAL_RUNS=$(or $(RUNS),50) $(BIN)/pytest -m reliability -s tests/integration/test_crash_recovery.py -k "killed_mid_stream or never_committed"

lint: install ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: install ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

eval: install ## Measure the scorer against plain snownlp on the public labelled sets (../shared/eval)
	$(BIN)/python bench/eval_scorer.py $(EVAL_ARGS)

eval-surge: install ## Measure surge detection on synthetic traffic with injected bursts, against a fixed threshold
	$(BIN)/python bench/eval_surge.py $(EVAL_ARGS)

bench: install ## Benchmarks, each as a ratio to a baseline measured in the same run, and the pipeline cost ladder (BENCH_ARGS=--quick)
	$(BIN)/python bench/bench_polarity.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_scorer.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_churn.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_pipeline.py $(BENCH_ARGS)

bench-noise: install ## What chat groups receive: kesu demo (10/s and 100/s) into the real service, pushed to local robots that enforce the platforms' limits (several minutes)
	$(BIN)/python bench/noise.py $(BENCH_ARGS)

schemas: install ## Regenerate streams/schemas/ from the records
	$(BIN)/kesu schemas

readme: install ## Regenerate the settings table in README.md
	$(BIN)/python -c 'from kesu.readme import update; update()'

clean: ## Remove the virtualenv, caches and local data (keeps the Kafka jars)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .data test-output
