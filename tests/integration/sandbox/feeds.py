"""Helpers the sandbox's feed tests share. A helper module, not a test module: import from it freely."""

import json
import threading
from typing import Any


class Collector:
    """An on_message callback for a WebSocket client: keeps every message, decoded, readable by channel."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, raw: str) -> None:
        with self.lock:
            self.messages.append(json.loads(raw))

    def on(self, channel: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m.get("channel") == channel]
