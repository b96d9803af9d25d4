# One entry point for people and CI. `make run` and `make test` set up everything on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages: gcc + kernel headers build evdev from source; chromium drives the browser tests;
# shellcheck checks the provisioning scripts; systemd gives systemd-analyze for the unit tests;
# nginx runs the generated reverse-proxy site in the provisioning tests and the cluster's balancer;
# redis-server: the cluster tests start a Redis of their own (never the machine's) to restart it;
# strace counts the appliance's fsyncs in `make bench` (bench.appliance_devices);
# the Noto CJK and colour emoji fonts let the browser tests see real glyphs for such names, and
# speech-dispatcher with espeak-ng gives them a voice, as the appliances have (provisioning/appliance.sh).
APT_PACKAGES ?= gcc linux-libc-dev chromium shellcheck systemd nginx-light openssl strace redis-server \
	fonts-noto-cjk fonts-noto-color-emoji speech-dispatcher speech-dispatcher-espeak-ng
PYTEST_ARGS ?=
# `make simulate SIMULATE_ARGS="--customers 200 --speed 1200 --printers"` (python -m server simulate --help)
SIMULATE_ARGS ?=
# The screens' Socket.IO client comes from the npm registry and is served by the server itself.
VENDOR_JS := server/web/static/vendor/socket.io.min.js

.PHONY: help system-deps install run run-cluster demo test test-fast lint typecheck bench services clean simulate

help:
	@echo "make run    - set up and start the server on http://$(HOST):$(PORT) (SQLite, demo data)"
	@echo "make run-cluster - three server processes on Redis and MariaDB behind nginx (PORT=8080)"
	@echo "make test   - set up and run the whole test suite (needs MariaDB; started if not running)"
	@echo "make bench  - run the benchmarks and print figures (MariaDB)"
	@echo "make simulate - play a simulated spa day through the protocol and check it (SIMULATE_ARGS=...)"
	@echo "make lint   - ruff and mypy"

system-deps: .stamp-apt
.stamp-apt: Makefile
	@bash scripts/apt-install.sh $(APT_PACKAGES)
	@touch $@

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: .stamp-install $(VENDOR_JS)
.stamp-install: pyproject.toml $(VENV)/bin/activate .stamp-apt
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

$(VENDOR_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $@)
	cp node_modules/socket.io-client/dist/socket.io.min.js $@

run: install
	PY=$(PY) HOST=$(HOST) PORT=$(PORT) bash scripts/run-demo.sh

# A simulated spa day through the real protocol on its own server, its invariants checked (issue 14).
simulate: install
	$(PY) -m server simulate $(SIMULATE_ARGS)

# Three server processes on Redis and MariaDB behind nginx (bench/cluster.py), demo data.
run-cluster: install services
	PY=$(PY) $(PY) scripts/run_cluster.py

services:
	@bash scripts/ensure-services.sh

test: install services
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not mysql and not browser and not slow" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check server appliance devices tests bench
	$(VENV)/bin/mypy server/domain appliance devices

bench: install services
	$(PY) -m bench.claims
	$(PY) -m bench.claims --concurrency 8 --waiting 5000 --claimed 2000
	$(PY) -m bench.statements
	$(PY) -m bench.fanout
	$(PY) -m bench.connections
	$(PY) -m bench.appliance
	$(PY) -m bench.appliance_devices
	$(PY) -m bench.simulate

clean:
	rm -rf $(VENV) .stamp-* .pytest_cache .mypy_cache .ruff_cache test-artifacts var node_modules
