"""The one error type for bad configuration, so callers (CLI, notebooks) can show it without a traceback."""


class ConfigError(ValueError):
    """Configuration that cannot be used; the message names the field, the bad value and what is allowed."""
