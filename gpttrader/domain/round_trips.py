"""Round trips: a position opened, then closed, with its PnL after fees. One implementation for live, paper
and the backtest (the bot's loss streak and edge record, the backtest's own walk-forward record, its trades
frame and the session report all read trips from `RoundTrips.apply`), so that a strategy researched in a
backtest is measured by the same rule live.

A trip opens when a product's position leaves zero and closes when it returns to zero; a fill that goes
through zero (a flip) closes one trip and opens the next with the rest.

The fee rule: a fill's fee is charged per unit traded (notional times a rate), so each unit's share of it
belongs to the trip that unit belongs to.
- The entry fees and the exit fees are both the trip's: buying in is as much a cost of the trade as selling
  out, and a trip's PnL after fees is what the trade added to the account (summed over trips, fees are
  exactly what the portfolio paid, nothing counted twice or lost).
- A flip's fee is split pro rata by size: the units that close the old position pay into the old trip, the
  units that open the new one are the new trip's entry fee. Charging the whole fee to the closing trip would
  make every closing trip of a flipping strategy look worse and the next one better
  than it was, which is exactly what the loss-streak guard and the Kelly win/loss averages then read.
- A partial close takes the entry fees of the units it closes, pro rata (the same average-cost rule that
  gives their entry price), so the PnL realized so far on a trip still open is charged the entry fees of what
  it sold, not of what it still holds.

A trip's return fraction, which the edge record (Kelly sizing) counts, is its PnL after fees over the
largest cost its position reached (size x average entry x multiplier): a trip closed in several fills is
measured against what was at stake, not against its last fill.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from gpttrader.domain.account import roll_position
from gpttrader.domain.enums import Side
from gpttrader.domain.orders import Fill

LONG, SHORT = "LONG", "SHORT"


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A round trip: from flat to a position and back to flat (or through it, on a flip). `exit_time` is None
    for a trip still open: its `fees`, `pnl` and `fraction` are then those of the part already closed."""

    product_id: str
    side: str  # LONG or SHORT
    entry_time: datetime
    exit_time: datetime | None
    size: Decimal  # everything entered
    entry_price: Decimal  # the average of every entry, by size
    exit_price: Decimal | None  # the average of every exit, by size (None before any)
    fees: Decimal  # the fees charged to `pnl`: see the module's fee rule
    pnl: Decimal  # realized PnL after fees
    notional: Decimal = Decimal(0)  # the largest cost the position reached: size x average entry x multiplier
    fraction: Decimal | None = None  # pnl over notional (None without a notional): what the edge record counts


@dataclass
class _Open:
    """The trip a product's position is in."""

    side: str
    entry_time: datetime
    size: Decimal = Decimal(0)  # held now, signed
    cost_price: Decimal = Decimal(0)  # the average entry of what is held (the portfolio's, by roll_position)
    entered: Decimal = Decimal(0)
    entry_value: Decimal = Decimal(0)
    exited: Decimal = Decimal(0)
    exit_value: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)  # realized PnL before fees
    fees: Decimal = Decimal(0)  # fees charged so far: those of the exits and of the entries they closed
    held_fees: Decimal = Decimal(0)  # entry fees of what is still held
    peak: Decimal = Decimal(0)

    def enter(self, size: Decimal, price: Decimal, fee: Decimal, multiplier: Decimal) -> None:
        change = size if self.side == LONG else -size
        self.size, self.cost_price, _ = roll_position(self.size, self.cost_price, change, price, multiplier)
        self.entered += size
        self.entry_value += size * price
        self.held_fees += fee
        self.peak = max(self.peak, abs(self.size * self.cost_price * multiplier))

    def exit(self, size: Decimal, price: Decimal, fee: Decimal, multiplier: Decimal) -> None:
        held = abs(self.size)
        entry_fees = self.held_fees if size == held else self.held_fees * size / held
        change = -size if self.side == LONG else size
        self.size, self.cost_price, realized = roll_position(self.size, self.cost_price, change, price, multiplier)
        self.exited += size
        self.exit_value += size * price
        self.gross += realized
        self.held_fees -= entry_fees
        self.fees += entry_fees + fee

    def trip(self, product_id: str, exit_time: datetime | None) -> RoundTrip:
        pnl = self.gross - self.fees
        return RoundTrip(
            product_id,
            self.side,
            self.entry_time,
            exit_time,
            self.entered,
            self.entry_value / self.entered,
            self.exit_value / self.exited if self.exited else None,
            self.fees,
            pnl,
            self.peak,
            pnl / self.peak if self.peak > 0 else None,
        )


@dataclass
class RoundTrips:
    """The round trips of a stream of fills, booked one fill at a time (in the order they happened)."""

    _open: dict[str, _Open] = field(default_factory=dict, init=False, repr=False)

    def apply(self, fill: Fill, multiplier: Decimal) -> RoundTrip | None:
        """Book one fill of a product whose contracts are `multiplier` units of its base (1 for spot); returns
        the trip it closed, if it closed one (a flip also opens the next)."""
        pid = fill.product_id
        buying = fill.side is Side.BUY
        rest, rest_fee, closed = fill.size, fill.fee, None
        current = self._open.get(pid)
        if current is not None and (current.side == LONG) != buying:
            closing = min(fill.size, abs(current.size))
            fee = fill.fee if closing == fill.size else fill.fee * closing / fill.size
            current.exit(closing, fill.price, fee, multiplier)
            rest, rest_fee = rest - closing, rest_fee - fee
            if current.size == 0:
                closed = current.trip(pid, fill.time)
                del self._open[pid]
        if rest:
            current = self._open.get(pid)
            if current is None:
                current = self._open[pid] = _Open(LONG if buying else SHORT, fill.time)
            current.enter(rest, fill.price, rest_fee, multiplier)
        return closed

    def still_open(self) -> list[RoundTrip]:
        """The trips not closed yet (no exit time; PnL and fees of their closed part)."""
        return [current.trip(pid, None) for pid, current in self._open.items()]


def round_trips(fills: list[Fill], multipliers: Mapping[str, Decimal]) -> list[RoundTrip]:
    """The round trips of a whole fill list (a backtest's, a session's), each product's contracts
    `multipliers[product]` units of its base: the closed ones in the order they closed, then those still
    open."""
    trips = RoundTrips()
    closed = [trip for fill in fills if (trip := trips.apply(fill, multipliers[fill.product_id])) is not None]
    return closed + trips.still_open()
