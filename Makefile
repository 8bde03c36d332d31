# Every target that needs the environment depends on the install stamp, which is rebuilt when .venv is
# missing or pyproject.toml or uv.lock changed: `make demo` and `make test` are all the set-up a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The environment is exactly uv.lock (every package pinned, dev extras included): `uv sync` installs it and
# removes what the lock does not name. A machine without uv gets the locked uv from pip, once, into the venv
# (one wheel; uv is a dev dependency, so the sync keeps it): pip only brings uv, it never resolves, so both
# paths install the same pins. The system Python's pip installs it (`--python`), so the venv is made without
# pip of its own (ensurepip takes longer than the whole sync); without a system pip, ensurepip it is.
UV := $(or $(shell command -v uv 2>/dev/null),$(BIN)/uv)
UV_PIN = $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' uv.lock)
PIP_INSTALL := install --quiet --disable-pip-version-check 'uv==$(UV_PIN)'
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint lab bench lock clean

define bootstrap_uv
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	test -x $(UV) || $(PYTHON) -m pip --python $(BIN)/python $(PIP_INSTALL) \
		|| { $(BIN)/python -m ensurepip --default-pip && $(BIN)/python -m pip $(PIP_INSTALL); }
endef

# --locked: a pyproject.toml whose dependencies changed without `make lock` stops here, naming the fix.
$(STAMP): pyproject.toml uv.lock
	$(bootstrap_uv)
	$(UV) sync --locked --extra dev --python $(BIN)/python --quiet
	touch $(STAMP)

# After a change of pyproject.toml's dependencies (or to take new releases: `make lock LOCK_ARGS=--upgrade`):
# re-resolve uv.lock and write environment.yml from the same pins.
lock:
	$(bootstrap_uv)
	$(UV) lock $(LOCK_ARGS)
	{ sed -n '1,/^  - pip:$$/p' environment.yml; \
	  $(UV) export --frozen --extra dev --no-hashes --no-emit-project --no-header --no-annotate \
	    | sed 's/^/      - /'; \
	  echo '      - -e ".[dev]"'; } > environment.yml.new
	mv environment.yml.new environment.yml

# The demo, the main job on the shipped defaults, offline and with no credentials: the research notebook
# (a backtest of the BTC-USD sample, a sweep, the report) and a paper session against a local sandbox
# exchange on a fast clock, both run headless through the notebook runner; then where everything is.
demo: $(STAMP)
	@set -e; \
	echo "== gpttrader notebook run research"; \
	$(BIN)/gpttrader notebook run research; \
	echo "== gpttrader notebook run paper_trading"; \
	$(BIN)/gpttrader notebook run paper_trading; \
	echo "== the research report"; ls -t data/reports/research_*.html | head -1; \
	echo "== gpttrader notebook runs -n 2"; \
	$(BIN)/gpttrader notebook runs -n 2

lint: $(STAMP)
	$(BIN)/ruff check gpttrader tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# The notebooks name the `python3` kernel, which a JupyterLab started from the environment runs on its own Python.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
