"""The canary session the live notebook runs: refused without a passing preflight or the opt-in; with
both, it trades inside its window and ends flat."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.app.sessions import canary_session
from gpttrader.brokers.coinbase import create_coinbase_broker
from gpttrader.config import BotConfig, load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Balance
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    # Virtual, but starting at the real now: preflight compares the exchange's clock with ours.
    return start_sandbox(virtual_start=datetime.now(UTC).timestamp(), speed=1.0)


def canary(sandbox: RunningSandbox, data: Path, *, key: bool = True) -> BotConfig:
    now = datetime.now(UTC)
    window = {"start": f"{(now - timedelta(hours=1)):%H}:00", "end": f"{(now + timedelta(hours=2)):%H}:00"}
    return load_config(
        "canary",
        overrides={
            "data_dir": data,
            "trading_window": window,  # the canary's 14:00-15:00, moved to now so that the test can run any time
            "strategy": {"name": "ma_cross", "params": {"fast": 2, "slow": 3}},
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
        },
        env=sandbox_env(sandbox, key=key),
    )


def test_refused_without_preflight_or_opt_in(
    market: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GPTTRADER_LIVE", raising=False)
    keyless = canary_session(live=True, config=canary(market, tmp_path, key=False), clock=SandboxClock(market))
    assert keyless.refused == "preflight failed (the fixes are above)"
    assert keyless.summary is None
    shy = canary_session(live=False, config=canary(market, tmp_path), clock=SandboxClock(market))
    assert shy.refused is not None
    assert shy.refused.startswith("no opt-in")
    assert all(r.passed for r in shy.preflight)


def test_with_both_it_trades_and_ends_flat(market: RunningSandbox, tmp_path: Path) -> None:
    session = canary_session(live=True, max_cycles=20, config=canary(market, tmp_path), clock=SandboxClock(market))
    assert session.refused is None
    assert session.summary is not None
    assert session.summary.cycles == 20
    assert session.summary.orders > 0
    assert session.summary.positions == {}  # flat at the end
    assert session.closed is not None
    btc = next(b.total for b in _balances(market, tmp_path) if b.currency == "BTC")
    assert btc == Decimal(1)  # the account's own BTC, back where it started
    assert any("closed out" in line for line in session.lines())


def _balances(market: RunningSandbox, data: Path) -> list[Balance]:
    return create_coinbase_broker(canary(market, data)).balances()
