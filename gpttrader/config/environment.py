"""Environment switches that sit between a profile file and explicit arguments.

| variable                      | effect                                                        |
|-------------------------------|---------------------------------------------------------------|
| GPTTRADER_PROFILE             | profile used when none is named (default dev)                 |
| PERPS_PAPER=1                 | selects the paper profile; conflicts with naming another one  |
| SPOT_FORCE_LIVE=1             | points the dev profile at Coinbase (dev only)                 |
| COINBASE_ENABLE_DERIVATIVES=1 | opens INTX perpetuals                                         |
| COINBASE_SANDBOX_URL          | points the Coinbase broker at a sandbox exchange              |
| COINBASE_SANDBOX_CERT         | the sandbox's self-signed certificate, trusted for it alone   |
| GPTTRADER_LOG_LEVEL           | DEBUG, INFO, WARNING or ERROR                                 |
| GPTTRADER_DATA_DIR            | where data/ lives (state goes to <data>/state/<profile>)      |
| GPTTRADER_ALERT_WEBHOOK_URL   | alerts are posted there (a secret: never logged or stored)    |
"""

from collections.abc import Mapping
from typing import Any

from gpttrader.config.errors import ConfigError
from gpttrader.config.models import PROFILE_NAMES, ProfileName
from gpttrader.config.secrets import load_alert_webhook

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class UnknownProfileError(ConfigError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown profile {name!r}; profiles: {', '.join(PROFILE_NAMES)}")
        self.name = name


def env_flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={env[name]!r} is not a switch; use 1/true/yes/on or 0/false/no/off")


def resolve_profile_name(explicit: str | None, env: Mapping[str, str]) -> ProfileName:
    paper_forced = env_flag(env, "PERPS_PAPER")
    name = explicit or ("paper" if paper_forced else env.get("GPTTRADER_PROFILE") or "dev")
    for candidate in PROFILE_NAMES:
        if candidate == name:
            if paper_forced and candidate != "paper":
                raise ConfigError(
                    f"PERPS_PAPER=1 selects the paper profile, but profile {candidate!r} was asked for; "
                    "unset PERPS_PAPER or ask for the paper profile"
                )
            return candidate
    raise UnknownProfileError(name)


def environment_overrides(profile: ProfileName, env: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if env_flag(env, "SPOT_FORCE_LIVE"):
        if profile != "dev":
            raise ConfigError(f"SPOT_FORCE_LIVE=1 applies to the dev profile only, not {profile!r}")
        overrides.update(broker="coinbase")
    if "COINBASE_ENABLE_DERIVATIVES" in env:
        overrides["derivatives_enabled"] = env_flag(env, "COINBASE_ENABLE_DERIVATIVES")
    coinbase = {
        key: env[name]
        for name, key in (("COINBASE_SANDBOX_URL", "sandbox_url"), ("COINBASE_SANDBOX_CERT", "sandbox_certificate"))
        if env.get(name)
    }
    if coinbase:
        overrides["coinbase"] = coinbase
    if env.get("GPTTRADER_LOG_LEVEL"):
        overrides["log_level"] = env["GPTTRADER_LOG_LEVEL"].upper()
    if env.get("GPTTRADER_DATA_DIR"):
        overrides["data_dir"] = env["GPTTRADER_DATA_DIR"]
    webhook = load_alert_webhook(env)
    if webhook is not None:  # a Secret: the one form alerts.webhook_url takes (a profile's string is refused)
        overrides["alerts"] = {"webhook_url": webhook}
    return overrides
