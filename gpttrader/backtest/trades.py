"""Round trips from a fill sequence: a trade opens when a position leaves zero and closes when it
returns to zero; a fill that crosses zero closes one trade and opens the next with the rest."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gpttrader.backtest.result import Trade
from gpttrader.domain import Fill, Product, Side


@dataclass
class _Open:
    side: str
    entry_time: datetime
    size: Decimal = Decimal(0)
    entry_value: Decimal = Decimal(0)
    exit_size: Decimal = Decimal(0)
    exit_value: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)

    def close(self, product_id: str, exit_time: datetime | None, multiplier: Decimal) -> Trade:
        entry_price = self.entry_value / self.size
        direction = 1 if self.side == "LONG" else -1
        gross = (self.exit_value - entry_price * self.exit_size) * direction * multiplier
        return Trade(
            product_id,
            self.side,
            self.entry_time,
            exit_time,
            self.size,
            entry_price,
            self.exit_value / self.exit_size if self.exit_size else None,
            self.fees,
            gross - self.fees,
        )


def round_trips(fills: list[Fill], products: Mapping[str, Product]) -> list[Trade]:
    trades: list[Trade] = []
    trade: dict[str, _Open] = {}
    position: dict[str, Decimal] = {}
    for fill in fills:
        pid, multiplier = fill.product_id, products[fill.product_id].multiplier
        held = position.get(pid, Decimal(0))
        left = fill.size if fill.side is Side.BUY else -fill.size
        fee_per_unit = fill.fee / fill.size
        while left:
            current = trade.get(pid)
            if current is None:
                current = trade[pid] = _Open("LONG" if left > 0 else "SHORT", fill.time)
            if (current.side == "LONG") == (left > 0):  # adding to the trade
                current.size += abs(left)
                current.entry_value += abs(left) * fill.price
                current.fees += abs(left) * fee_per_unit
                held += left
                left = Decimal(0)
                continue
            closing = min(abs(left), abs(held))  # reducing it, perhaps to zero and beyond
            current.exit_size += closing
            current.exit_value += closing * fill.price
            current.fees += closing * fee_per_unit
            step = closing if left > 0 else -closing
            held += step
            left -= step
            if held == 0:
                trades.append(current.close(pid, fill.time, multiplier))
                del trade[pid]
        position[pid] = held
    trades.extend(current.close(pid, None, products[pid].multiplier) for pid, current in trade.items())
    return trades
