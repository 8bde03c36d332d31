"""The engine's tests run against the sandbox exchange too."""

from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import start_sandbox

__all__ = ["sandbox_env", "start_sandbox"]


def sandbox_env(sandbox: RunningSandbox, *, key: bool = True, **extra: str) -> dict[str, str]:
    """The environment that points a profile at `sandbox` (with its API key unless `key` is False)."""
    env = {"COINBASE_SANDBOX_URL": f"https://{sandbox.base_url}", "COINBASE_SANDBOX_CERT": str(sandbox.cert_path)}
    if key:
        env["COINBASE_KEY_FILE"] = str(sandbox.settings.key_files[0])
    return {**env, **extra}
