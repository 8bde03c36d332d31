"""The venue's order preview as the risk manager's last pre-trade check."""

from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.protocol import Broker
from gpttrader.domain import OrderRequest
from gpttrader.risk.manager import OrderPreviewHook


def venue_preview(broker: Broker) -> OrderPreviewHook:
    """Ask the broker what it would make of an order: None when it would take it, else its errors. A
    preview that cannot be had counts as a refusal: the check exists because the venue knows better."""

    def preview(order: OrderRequest) -> str | None:
        try:
            answer = broker.preview_order(order)
        except BrokerError as exc:
            return f"preview failed: {exc}"
        return None if answer.ok else "; ".join(answer.errors)

    return preview
