# Two entry points for a newcomer: `make serve` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install serve ingest test lint browser redis bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and explicitly: otherwise pip resolves a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

ingest: $(STAMP)
	$(PY) -m ingest knowledge

serve: ingest
	$(PY) -m web --host $${BOT_HOST:-127.0.0.1} --port $${BOT_PORT:-8000}

lint: $(STAMP)
	$(PY) -m ruff check bot ingest web tests bench
	$(PY) -m mypy bot ingest web

# Headless Chromium + a Chinese font for the widget's end-to-end tests (Debian packages).
browser:
	sh scripts/install-browser.sh

# redis-server for the shared rate-limit counters' tests (Debian package; the tests start it).
redis:
	sh scripts/install-redis.sh

test: lint browser redis
	$(PY) -m pytest

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache
