#!/usr/bin/env bash
# `make run`: the demo's supervisor (scripts/run_demo.py) with the project's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PY
exec "$PY" scripts/run_demo.py
