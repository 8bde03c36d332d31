"""A fee tier that cannot be read (a key without the permission, an outage at start) is an API error: the
bot sizes at the highest tier's taker rate meanwhile and keeps trading (found by a red-team pass, when every
cycle failed until a read succeeded and the error-rate guard halted the bot)."""

from datetime import UTC, datetime
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.errors import PermissionDeniedError
from gpttrader.config import load_config
from gpttrader.engine.clock import FastClock

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _session(data: Path) -> ApplicationContainer:
    overrides = {"data_dir": data, "symbols": ["BTC-USD", "ETH-USD"]}
    return ApplicationContainer(load_config("dev", overrides=overrides, env={}), clock=FastClock(START))


def _run(data: Path, fail_fee_tier: bool) -> tuple[int, int, str]:
    with _session(data) as container:
        bot = container.create_bot()
        if fail_fee_tier:

            def denied():
                raise PermissionDeniedError("transaction summary: 403 (the key lacks the view permission)")

            bot.fee_tier._read = denied
        bot.bootstrap()
        bot.run(max_cycles=60)
        bot.shutdown()
        return len(container.orders_store.all_orders()), bot.metrics.errors, str(container.risk_manager.state)


def test_an_unread_fee_tier_sizes_at_the_highest_tier_and_trades_on(tmp_path: Path) -> None:
    orders_ok, _, _ = _run(tmp_path / "ok", fail_fee_tier=False)
    assert orders_ok > 0  # the session trades when the tier reads
    orders, errors, state = _run(tmp_path / "denied", fail_fee_tier=True)
    assert orders > 0, f"no order in 60 cycles: every cycle failed on the fee tier ({errors} errors, state {state})"
