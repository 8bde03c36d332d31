# Every target that needs the environment depends on the install stamp, which is rebuilt when .venv is
# missing or pyproject.toml changed: `make demo` and `make test` are all the set-up a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint lab bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

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

lab: $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name gpttrader --display-name "Python (gpttrader)"
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
