# Salesloop: `make run` and `make test` are the whole set-up (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy
HOST ?= 127.0.0.1
PORT ?= 8000
SIZE ?= S
PYTEST_ARGS ?=

.PHONY: install run test test-fast browser system-deps messages lint bench-api bench-custops lifetimes-venv clean

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --inexact --all-groups
	@touch $@

install: $(VENV)/.installed system-deps messages

# Debian packages the product needs at run/test time: gettext (compiling translations) and
# Chromium (browser tests drive /usr/bin/chromium through Playwright).
system-deps:
	@command -v msgfmt >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext; }
	@# A CJK font for the PDF meeting packs (targets.exports); fpdf2 embeds a subset of it.
	@test -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-droid-fallback; }
	@# Redis: the production broker, and the automation fault test starts a private one (docs/automation.md).
	@command -v redis-server >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

messages: $(VENV)/.installed system-deps
	@$(BIN)/python manage.py compilemessages -v0 --ignore=.venv

run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py demo --size $(SIZE) --if-empty
	$(BIN)/python manage.py custops_recompute
	@# Pipeline intelligence: the win-probability model, and half a year of weekly forecast
	@# snapshots replayed as of each week so forecast accuracy shows at once (both idempotent).
	$(BIN)/python manage.py scoring_retrain
	$(BIN)/python manage.py forecast_backfill_snapshots --weeks 26
	$(BIN)/python manage.py demo_logins
	@# The embedded scheduler (docs/automation.md) runs the jobs beside the dev server; it stops with it.
	$(BIN)/python manage.py run_scheduler & SCHEDULER=$$!; trap 'kill $$SCHEDULER 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install browser
	$(BIN)/python manage.py makemigrations --check --dry-run -v0
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not browser" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check salesloop tests bench

bench-api: install
	$(BIN)/python bench/api_bench.py

# Customer operations on the size-M PostgreSQL database (DATABASE_URL, default salesloop_bench),
# compared in the same run with the lifetimes library in its own virtualenv (test-time only).
LIFETIMES_VENV := var/venvs/lifetimes
$(LIFETIMES_VENV)/bin/python:
	$(PYTHON) -m venv $(LIFETIMES_VENV)
	$(LIFETIMES_VENV)/bin/python -m pip install -q "numpy==1.26.*" "pandas==2.2.*" "scipy==1.13.*" \
		"autograd==1.7.*" "setuptools<82" "lifetimes==0.11.3"

lifetimes-venv: $(LIFETIMES_VENV)/bin/python

bench-custops: install lifetimes-venv
	$(BIN)/python bench/custops_bench.py

clean:
	rm -rf $(VENV) var staticfiles
