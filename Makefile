# MVP Validator: `make run` serves the platform, `make test` runs the suite.
# Both create .venv and install the locked requirements (requirements-dev.lock) on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint check ci clean bench-deps bench-landing browser-deps lock

# Every package, dependencies included, comes from the lock with its hashes: pip refuses a file
# whose hash differs or is missing, and --no-deps keeps it from fetching anything the lock does not
# name. The venv's own pip is used as it is (an unpinned `--upgrade pip` would be the one download
# nothing checks).
$(STAMP): requirements-dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	@touch $(STAMP)

# Regenerates requirements.lock (run time: the Docker image) and requirements-dev.lock (run time +
# the dev extra: tests and tools) from pyproject.toml, with the hashes of every wheel and sdist, for
# Python 3.11 on any platform (a clean clone on x86_64 or aarch64 installs from the same files).
# Versions already in the locks are kept; move them on purpose with UPGRADE=--upgrade or
# UPGRADE="--upgrade-package django". uv (pinned below) is installed from PyPI into a throwaway
# venv under $TMPDIR, never into .venv; UV=/path/to/uv uses one you have.
UV_VERSION := 0.13.9
UV_VENV ?= $(or $(TMPDIR),/tmp)/mvpvalidator-uv-$(UV_VERSION)
UV ?= $(UV_VENV)/bin/uv
LOCK_ARGS = --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" --quiet $(UPGRADE)

$(UV_VENV)/bin/uv:
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The dev lock first; the run-time lock is then constrained to it, so a package both hold has the
# same version in each (the image runs what the suite tested).
lock: $(filter $(UV_VENV)/bin/uv,$(UV))
	$(UV) pip compile pyproject.toml --extra dev $(LOCK_ARGS) -o requirements-dev.lock
	$(UV) pip compile pyproject.toml $(LOCK_ARGS) -c requirements-dev.lock -o requirements.lock

run: $(STAMP)
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py seed_demo
	@echo ""
	@echo "  MVP Validator:  http://$(HOST):$(PORT)/"
	@echo "  API docs:       http://$(HOST):$(PORT)/api/docs/"
	@echo "  Health:         http://$(HOST):$(PORT)/api/monitoring/health"
	@echo "  Monitor:        http://$(HOST):$(PORT)/performance-monitor/  (staff login above)"
	@echo "  Admin:          http://$(HOST):$(PORT)/admin/  (staff login above)"
	@echo ""
	@# The event worker (page views, clicks, signups into the rollups) runs next to the server
	@# and stops with it.
	@$(PY) manage.py run_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP) browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@# The dependency rules (pyproject.toml, [tool.importlinter]): infrastructure never imports
	@# the domain, monitoring and security meet through their interfaces, pure modules stay pure.
	$(VENV)/bin/lint-imports
	@# Types (pyproject.toml, [tool.mypy]): strict on the infrastructure apps and on projects'
	@# analysis, services, selectors, events, views and models; the rest on the ratchet.
	$(PY) -m mypy

check: $(STAMP)
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

ci:
	bash .ci/run

# axe-core, the accessibility checker the browser tests inject into pages (tests/browser.py,
# assert_axe_clean), from the npm registry through npm: one pinned version whose tarball must match
# the pinned sha512 (the registry's own `dist.integrity` for that version) before anything is
# unpacked. Only axe.min.js is kept, under .cache/ (which ignores itself in git). npm comes from
# Debian when it is missing and we are root; otherwise, or when the registry cannot be reached, it
# says so and goes on (a test needing axe then skips locally and fails under CI=true); under
# CI=true a fetch that fails fails the run. A tarball that does not match fails it anywhere. To
# move the pin: `npm view axe-core@VERSION dist.integrity`, then set both lines.
AXE_VERSION := 4.14.1
AXE_INTEGRITY := sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR := .cache/axe-core
AXE := $(AXE_DIR)/$(AXE_VERSION)/axe.min.js

# Browser tests drive Debian's Chromium through Playwright (Playwright's own browser download
# is not used). A no-op once chromium is installed; without root it says what is missing and
# goes on (the browser tests then skip locally; under CI=true they fail).
browser-deps: $(AXE)
	@command -v chromium >/dev/null || { test "$$(id -u)" = 0 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	  || echo "browser-deps: chromium is not installed; run 'sudo make browser-deps'"

$(AXE):
	@command -v npm >/dev/null || { test "$$(id -u)" = 0 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; } \
	  || { echo "browser-deps: npm is not installed, so axe-core is not either; run 'sudo make browser-deps'"; exit 0; }; \
	set -e; work="$$(mktemp -d)"; trap 'rm -rf "$$work"' EXIT; \
	packed="$$(cd "$$work" && npm pack --silent --ignore-scripts axe-core@$(AXE_VERSION))" || { \
	  echo "browser-deps: could not fetch axe-core $(AXE_VERSION) from the npm registry" >&2; \
	  test "$$CI" != true; exit; }; \
	tarball="$$(printf '%s\n' "$$packed" | tail -n 1)"; test -f "$$work/$$tarball"; \
	actual="sha512-$$(openssl dgst -sha512 -binary "$$work/$$tarball" | base64 -w 0)"; \
	if [ "$$actual" != "$(AXE_INTEGRITY)" ]; then \
	  echo "browser-deps: axe-core $(AXE_VERSION) tarball has $$actual, expected $(AXE_INTEGRITY)" >&2; exit 1; fi; \
	tar -xzf "$$work/$$tarball" -C "$$work" package/axe.min.js; \
	mkdir -p $(AXE_DIR)/$(AXE_VERSION); printf '*\n' > .cache/.gitignore; \
	touch "$$work/package/axe.min.js"; mv "$$work/package/axe.min.js" $(AXE).tmp; mv $(AXE).tmp $(AXE); \
	echo "browser-deps: axe-core $(AXE_VERSION) in $(AXE)"

# Benchmarks run a production-like stack (gunicorn, PostgreSQL, Redis) and load it with wrk.
bench-deps:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

# Every benchmark, then the table of verdicts docs/BENCHMARKS.md keeps (BENCH_ARGS=--quick
# for shorter, noisier runs; or name some: BENCH_ARGS="signups signup_list").
.PHONY: bench soak
bench: $(STAMP) bench-deps
	$(PY) -m bench $(BENCH_ARGS)

# Mixed traffic with faults on its own PostgreSQL and Redis (SOAK_MINUTES=10 is the full form).
SOAK_MINUTES ?= 10
soak: $(STAMP) bench-deps
	$(PY) -m bench.soak --minutes $(SOAK_MINUTES)

bench-landing: $(STAMP) bench-deps
	$(PY) -m bench.landing

.PHONY: bench-signups bench-signup-list
bench-signups: $(STAMP) bench-deps
	$(PY) -m bench.signups

bench-signup-list: $(STAMP) bench-deps
	$(PY) -m bench.signup_list

.PHONY: bench-overhead
bench-overhead: $(STAMP) bench-deps
	$(PY) -m bench.overhead

# In-process renders (Django's test Client), no load generator: wrk is not needed.
.PHONY: bench-dashboard
bench-dashboard: $(STAMP)
	$(PY) -m bench.dashboard

# Worker processes against PostgreSQL only: wrk is not needed either.
.PHONY: bench-rollup
bench-rollup: $(STAMP)
	$(PY) -m bench.rollup

clean:
	rm -rf $(VENV) .cache/axe-core staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm .pytest_cache .ruff_cache
