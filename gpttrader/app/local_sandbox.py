"""A sandbox exchange started in this process for a paper session: a fresh key, a virtual clock that
starts now, its files in a temporary folder, and the configuration that points a profile at it. Its market
has at least `history` behind the start (the bot's warm-up and seed read that far back) and a week ahead."""

import math
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from gpttrader.config import BotConfig, load_config
from gpttrader.sandbox import RunningSandbox, SandboxSettings, generate_key_file

MINUTE = timedelta(minutes=1)
HISTORY_SPARE_MINUTES = 1440  # a day more than asked: a bucket boundary, a restart later in the session


class LocalSandbox:
    def __init__(self, history: timedelta = timedelta(0)) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="gpttrader-sandbox-")
        key = Path(self._folder.name) / "key.json"
        generate_key_file(key)
        start = datetime.now(UTC).replace(second=0, microsecond=0).timestamp()
        minutes = max(SandboxSettings.history_minutes, math.ceil(history / MINUTE) + HISTORY_SPARE_MINUTES)
        try:
            self.sandbox = RunningSandbox(
                SandboxSettings(
                    state_dir=Path(self._folder.name) / "sandbox",
                    key_files=(key,),
                    virtual_start=start,
                    history_minutes=minutes,
                )
            )
        except BaseException:
            self._folder.cleanup()
            raise

    def config(self, profile: str, overrides: dict[str, Any] | None = None) -> BotConfig:
        """The profile on this sandbox's market data, polled by REST: on a virtual clock the bot moves time
        itself, so a feed would only repeat what each cycle reads."""
        env = {
            "COINBASE_SANDBOX_URL": f"https://{self.sandbox.base_url}",
            "COINBASE_SANDBOX_CERT": str(self.sandbox.cert_path),
        }
        merged = {
            **(overrides or {}),
            "coinbase": {"public_requests_per_second": 1000, "websocket": False},
        }
        return load_config(profile, overrides=merged, env={**os.environ, **env})

    def stop(self) -> None:
        try:
            self.sandbox.stop()
        finally:
            self._folder.cleanup()

    def __enter__(self) -> "LocalSandbox":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
