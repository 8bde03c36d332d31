"""Bot configuration: profiles, environment switches, risk limits and credentials."""

from gpttrader.config.environment import UnknownProfileError
from gpttrader.config.errors import ConfigError
from gpttrader.config.loader import load_config
from gpttrader.config.models import LIVE_PROFILES, PROFILE_NAMES, BotConfig
from gpttrader.config.risk_limits import RiskLimits, load_risk_limits
from gpttrader.config.secrets import Credentials, Secret, load_credentials

__all__ = [
    "LIVE_PROFILES",
    "PROFILE_NAMES",
    "BotConfig",
    "ConfigError",
    "Credentials",
    "RiskLimits",
    "Secret",
    "UnknownProfileError",
    "load_config",
    "load_credentials",
    "load_risk_limits",
]
