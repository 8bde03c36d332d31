"""A derivative product's `future_product_details` and `fcm_trading_session_details`, field for field as
Coinbase lists them (a CFM monthly future, a CFM perpetual-style future, an INTX perpetual), so that a
client reading Coinbase's answers reads the sandbox's."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from gpttrader.domain import ProductType
from gpttrader.domain.funding import FUNDING_INTERVAL, FUNDING_RATE_PER_HOUR
from gpttrader.sandbox.catalog import Listing
from gpttrader.sandbox.margin import INTRADAY_MARGIN, OVERNIGHT_MARGIN, PERPETUAL_MARGIN

CFM_DAY_STARTS_UTC = 21  # the CFM trading day runs 21:00 to 21:00 UTC (5 PM New York)
_NANO = {"BTC": "nano Bitcoin", "ETH": "nano Ether"}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _rates(rate: Decimal) -> dict[str, str]:
    return {"long_margin_rate": str(rate), "short_margin_rate": str(rate)}


def future_details(listing: Listing, price: Decimal, now: datetime) -> dict[str, Any]:
    p = listing.product
    assert p.contract_size is not None
    base = p.base_currency
    perpetual = p.product_type is ProductType.PERPETUAL
    funded = perpetual or p.perpetual_style
    last_funding = _rfc3339(now.replace(minute=0, second=0, microsecond=0)) if funded else None
    funding_rate = str(FUNDING_RATE_PER_HOUR) if funded else ""
    if perpetual:
        group, short, name = f"{base} Perpetual", f"{base} PERP", f"{base} Perpetual"
    elif p.perpetual_style:
        group, short, name = f"nano {base} Perp Futures", f"nano {base} Perp", f"{base} Perpetual"
    else:
        assert p.expiry is not None
        group, short = f"{_NANO.get(base, base)} Futures", f"nano {base}"
        name = f"{base} Futures ({p.expiry:%b %Y})"
    return {
        "venue": "intx" if perpetual else "cde",
        "contract_code": listing.contract_code,
        "contract_expiry": _rfc3339(p.expiry) if p.expiry else None,
        "contract_size": str(p.contract_size),
        "contract_root_unit": base,
        "group_description": group,
        "contract_expiry_timezone": "Europe/London",
        "group_short_description": short,
        "risk_managed_by": "MANAGED_BY_VENUE" if perpetual else "MANAGED_BY_FCM",
        # A perpetual-style future expires (in five years): Coinbase says EXPIRING and gives it funding fields.
        "contract_expiry_type": "PERPETUAL" if perpetual else "EXPIRING",
        "perpetual_details": {
            "open_interest": "0",
            "funding_rate": funding_rate if perpetual else "",
            "funding_time": last_funding if perpetual else None,
            "max_leverage": str(int(1 / PERPETUAL_MARGIN)) if perpetual else "",
            "base_asset_uuid": "",
            "underlying_type": "",
        },
        "contract_display_name": listing.display_name,
        "time_to_expiry_ms": str(int((p.expiry - now).total_seconds() * 1000)) if p.expiry else "0",
        "non_crypto": False,
        "contract_expiry_name": f"{p.expiry:%Y-%m}" if p.expiry else "",
        "twenty_four_by_seven": True,
        "funding_interval": f"{int(FUNDING_INTERVAL.total_seconds())}s" if funded else None,
        "open_interest": "0",
        "funding_rate": funding_rate,
        "funding_time": last_funding,
        "display_name": name,
        "region_enabled": {},
        "intraday_margin_rate": _rates(PERPETUAL_MARGIN if perpetual else INTRADAY_MARGIN),
        "overnight_margin_rate": _rates(PERPETUAL_MARGIN if perpetual else OVERNIGHT_MARGIN),
        "settlement_price": str(price),
        "futures_asset_type": "FUTURES_ASSET_TYPE_CRYPTO",
        "index_price": str(price) if funded else "",
        "contract_code_display_name": "",
        "product_group_cbrn": "",
    }


def trading_session(now: datetime) -> dict[str, Any]:
    """The CFM trading day `now` is in, open around the clock (the sandbox keeps no maintenance window:
    the next Saturday's three hours are announced, as Coinbase announces its weekly one, never enforced)."""
    opened = now.replace(hour=CFM_DAY_STARTS_UTC, minute=0, second=0, microsecond=0)
    if opened > now:
        opened -= timedelta(days=1)
    saturday = (now + timedelta(days=(5 - now.weekday()) % 7 or 7)).replace(hour=14, minute=0, second=0, microsecond=0)
    return {
        "is_session_open": True,
        "open_time": _rfc3339(opened),
        "close_time": _rfc3339(opened + timedelta(days=1)),
        "session_state": "FCM_TRADING_SESSION_STATE_OPEN",
        "after_hours_order_entry_disabled": False,
        "closed_reason": "FCM_TRADING_SESSION_CLOSED_REASON_UNDEFINED",
        "maintenance": {"start_time": _rfc3339(saturday), "end_time": _rfc3339(saturday + timedelta(hours=3))},
    }
