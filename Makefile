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

demo: $(STAMP)
	$(BIN)/gpttrader config show --profile dev
	$(BIN)/gpttrader config show --profile canary --format json
	$(BIN)/gpttrader events tail --profile dev

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
