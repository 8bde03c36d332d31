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

# The demo: a sandbox exchange on a free port replaying the shipped BTC-USD sample, an order placed and
# listed through the CLI (written to the orders store before it is sent) and the events it left, the live
# preflight against it, a short paper session on its market data, and the dev bot's smoke run.
# Offline, no credentials of yours, all temporary.
demo: $(STAMP)
	@set -e; demo=$$(mktemp -d); export GPTTRADER_DATA_DIR=$$demo; \
	$(BIN)/gpttrader sandbox --port 0 --candles BTC-USD=data/sample/BTC-USD_1m.parquet > $$demo/sandbox.log 2>&1 & \
	sandbox=$$!; \
	trap 'kill $$sandbox 2>/dev/null; rm -rf $$demo' EXIT; \
	for i in $$(seq 300); do grep -q "^certificate:" $$demo/sandbox.log && break; sleep 0.1; done; \
	export COINBASE_SANDBOX_URL=$$(sed -n 's/^sandbox listening on //p' $$demo/sandbox.log); \
	export COINBASE_SANDBOX_CERT=$$(sed -n 's/^certificate: //p' $$demo/sandbox.log); \
	export COINBASE_KEY_FILE=$$demo/state/sandbox/key.json; \
	echo "== sandbox exchange at $$COINBASE_SANDBOX_URL"; \
	echo "== gpttrader order place --profile canary --product BTC-USD --side BUY --size 0.001"; \
	$(BIN)/gpttrader order place --profile canary --product BTC-USD --side BUY --size 0.001; \
	echo "== gpttrader order place --profile canary --product BTC-USD --side SELL --size 0.001 --limit-price 999999"; \
	$(BIN)/gpttrader order place --profile canary --product BTC-USD --side SELL --size 0.001 --limit-price 999999; \
	echo "== gpttrader order list --profile canary"; \
	$(BIN)/gpttrader order list --profile canary; \
	echo "== gpttrader events tail --profile canary"; \
	$(BIN)/gpttrader events tail --profile canary; \
	echo "== gpttrader preflight --profile canary"; \
	$(BIN)/gpttrader preflight --profile canary; \
	echo "== gpttrader run --profile paper --cycles 1   (the sandbox's market data, simulated fills)"; \
	GPTTRADER_LOG_LEVEL=WARNING $(BIN)/gpttrader run --profile paper --cycles 1; \
	echo "== gpttrader run --profile dev --dev-fast   (the deterministic broker on a fast clock)"; \
	GPTTRADER_LOG_LEVEL=WARNING $(BIN)/gpttrader run --profile dev --dev-fast

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
