"""Coinbase's order preview as the risk manager's last check, through the real SDK against the sandbox."""

from datetime import UTC, datetime
from decimal import Decimal

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.coinbase import CoinbaseBroker
from gpttrader.config import BotConfig
from gpttrader.domain import OrderRequest, OrderType, Side
from gpttrader.engine.preview import venue_preview
from gpttrader.risk import FixedFractionSizer, LiveRiskManager, MemoryJournal, TradeContext, TradeLimits, TradingState

NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def context(broker: CoinbaseBroker, size: str) -> TradeContext:
    order = OrderRequest(f"pv-{size}", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal(size))
    price = broker.quote("BTC-USD").ask
    return TradeContext(order, broker.product("BTC-USD"), price, Decimal(10_000_000), {}, TradingState.ACTIVE, NOW, NOW)


def test_the_venue_refuses_what_the_account_cannot_pay(broker: CoinbaseBroker) -> None:
    risk = LiveRiskManager(
        guards=[],
        limits=TradeLimits(),
        sizer=FixedFractionSizer(),
        journal=MemoryJournal(),
        preview=venue_preview(broker),
    )
    assert risk.validate(context(broker, "0.1")).passed
    refused = risk.validate(context(broker, "50"))
    assert refused.rejection is not None
    assert refused.rejection.check == "order_preview"
    assert "INSUFFICIENT_FUND" in refused.rejection.message
    [event] = risk.journal.events  # type: ignore[attr-defined]
    assert event.payload["check"] == "order_preview"


def test_the_container_wires_the_preview_for_a_live_profile_that_asks_for_it(config: BotConfig) -> None:
    asking = config.model_copy(update={"risk": config.risk.model_copy(update={"use_order_preview": True})})
    with ApplicationContainer(asking) as container:
        assert container.risk_manager.preview is not None
    with ApplicationContainer(config) as container:
        assert container.risk_manager.preview is None
