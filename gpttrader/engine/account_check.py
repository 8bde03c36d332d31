"""A new store never silently meets an account that holds what it does not know.

A store that has never met the exchange account (no bot started on it, no operator adopted the account
into it) knows none of the account's orders and positions: reconciliation would cancel the orders as
unknown (an exit order among them) and count the positions as no one's. So the first bootstrap on such a
store refuses while the account shows open orders of this bot (their client order ids carry its prefix)
or derivatives positions; the operator adopts them (`gpttrader store adopt`), which records them in the
store. Another bot's or a person's orders on a shared account are not the store's to know: reconciliation
leaves them working. Spot balances are not counted: an account holds coins of its own, and the bot's spot
positions come from its fills.
"""

from collections.abc import Iterable

from gpttrader.brokers.protocol import Broker
from gpttrader.domain.client_ids import ClientIds
from gpttrader.store import EventStore
from gpttrader.store.integrity import has_met_the_account
from gpttrader.store.refusals import UnadoptedAccountError


def require_known_account(
    profile: str, broker: Broker, events: EventStore, product_ids: Iterable[str], ids: ClientIds
) -> None:
    if has_met_the_account(events):
        return
    listed = [o.client_order_id for pid in product_ids for o in broker.list_orders(pid, open_only=True)]
    orders = [cid for cid in listed if ids.owns(cid)]
    positions = [f"{p.product_id} {p.size}" for p in broker.positions() if p.size]
    if not orders and not positions:
        return
    shown = "; ".join(
        part
        for part in (
            f"open orders {', '.join(orders)}" if orders else "",
            f"positions {', '.join(positions)}" if positions else "",
        )
        if part
    )
    raise UnadoptedAccountError(
        f"profile {profile} has a new store, but the exchange account shows {shown}, which the store does not "
        "know (a lost store, or another bot's). Refusing to start: restore the store's backup if it was lost, or "
        f'adopt the account\'s current state into the store: gpttrader store adopt --profile {profile} --reason "..."'
    )
