# Two entry points for a newcomer: `make serve` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install serve ingest admin test lint browser redis postgresql nginx libreoffice bench clean

# The first install downloads about 1 GB (torch, the models' libraries): each step says
# what it does, and pip shows its progress bars.
$(STAMP): pyproject.toml
	@echo "[1/3] 准备虚拟环境 preparing the virtual environment ($(VENV))…"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@echo "[2/3] 安装 torch（CPU 版，首次约需数分钟）installing torch, CPU build (a few minutes the first time)…"
	@# torch first and explicitly: otherwise pip resolves a multi-GB CUDA build.
	@$(PY) -m pip install --progress-bar on torch==2.13.0
	@echo "[3/3] 安装本系统及其依赖 installing the assistant and its dependencies…"
	@$(PY) -m pip install --progress-bar on -e ".[dev]"
	@touch $(STAMP)
	@echo "安装完成 installed. 下一步 next: make serve"

install: $(STAMP)

ingest: $(STAMP)
	@echo "建立知识库索引 indexing knowledge/ (only changed files are read again)…"
	@$(PY) -m ingest knowledge

# Ctrl-C (or SIGTERM) stops the server cleanly: it finishes what it is doing and exits 0;
# --foreground keeps Ctrl-C from interrupting make itself (web/terminal.py).
serve: ingest
	@echo "启动服务 starting: http://$${BOT_HOST:-127.0.0.1}:$${BOT_PORT:-8000}/chat  (后台 staff: /admin · Ctrl-C 停止 stops)"
	@$(PY) -m web --foreground --host $${BOT_HOST:-127.0.0.1} --port $${BOT_PORT:-8000}

# A staff account: `make admin USER=zhang` asks for the password (twice);
# ROLE=editor for an editor (default admin). Without USER=, your login name.
admin: $(STAMP)
	@$(PY) -m web create-admin "$(USER)" $(if $(ROLE),--role $(ROLE))

lint: $(STAMP)
	$(PY) -m ruff check bot ingest web tests bench
	$(PY) -m mypy bot ingest web

# Headless Chromium + a Chinese font for the widget's end-to-end tests (Debian packages).
browser:
	sh scripts/install-browser.sh

# redis-server for the shared rate-limit counters' tests (Debian package; the tests start it).
redis:
	sh scripts/install-redis.sh

# PostgreSQL for the records tests (Debian package; the tests start a throw-away cluster on a
# free loopback port, and a `chroma run` server from the venv, and stop both after).
postgresql:
	sh scripts/install-postgresql.sh

# nginx for the deployment tests (Debian package; they run their own on a free loopback port
# with deploy/nginx/jiangan-bot.conf.in, and stop it after; the package's service is not started).
nginx:
	sh scripts/install-nginx.sh

# LibreOffice (headless Writer and Calc) to read .doc, .wps and .et files (Debian packages;
# the assistant runs without it and then refuses those files with the reason).
libreoffice:
	sh scripts/install-libreoffice.sh

test: lint browser redis postgresql nginx libreoffice
	$(PY) -m pytest

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache
