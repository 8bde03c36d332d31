import io
import json
import logging
import pickle
from pathlib import Path

import pytest

from gpttrader.config import ConfigError, Secret, load_config, load_credentials
from gpttrader.config.redaction import RedactingFilter, configure_logging, redact

PEM = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBkg4LVWM9nuwNSkvGwPLzUcbfOPtUNRvbQL4a/UcWryoAoGCCqGSM49\n"
    "-----END EC PRIVATE KEY-----\n"
)


def test_secret_never_prints() -> None:
    secret = Secret("very-secret-value-123")
    assert str(secret) == "**********"
    assert "very-secret" not in repr(secret)
    assert "very-secret" not in f"{secret} {secret!r} {[secret]}"
    assert secret.reveal() == "very-secret-value-123"
    assert secret == Secret("very-secret-value-123")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)


def test_credentials_from_environment() -> None:
    creds = load_credentials(
        {"COINBASE_API_KEY": "organizations/o/apiKeys/k-abcd", "COINBASE_API_SECRET": PEM.replace("\n", "\\n")}
    )
    assert creds is not None
    assert creds.source == "environment"
    assert creds.api_secret.reveal() == PEM
    assert creds.describe() == {"source": "environment", "api_key": "****abcd", "api_secret": "**********"}
    assert load_credentials({}) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"COINBASE_API_KEY": "k" * 20}, "COINBASE_API_SECRET is not set"),
        ({"COINBASE_API_SECRET": "s" * 20}, "COINBASE_API_KEY is not set"),
        ({"COINBASE_API_KEY": "k" * 20, "COINBASE_KEY_FILE": "/x"}, "either COINBASE_KEY_FILE or"),
    ],
)
def test_half_configured_credentials_are_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_credentials(env)


def write_key_file(path: Path, mode: int, body: object) -> Path:
    path.write_text(json.dumps(body))
    path.chmod(mode)
    return path


def test_key_file(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "key.json", 0o600, {"name": "organizations/o/apiKeys/k1", "privateKey": PEM})
    creds = load_credentials({"COINBASE_KEY_FILE": str(path)})
    assert creds is not None
    assert creds.source == "key_file"
    assert creds.api_key.reveal() == "organizations/o/apiKeys/k1"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_key_file(tmp_path / "key.json", mode, {"name": "n", "privateKey": PEM})
    with pytest.raises(ConfigError, match=f"readable by group or others \\(mode {mode:o}\\); run: chmod 600"):
        load_credentials({"COINBASE_KEY_FILE": str(path)})


def test_bad_key_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_credentials({"COINBASE_KEY_FILE": str(tmp_path / "none.json")})
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    broken.chmod(0o600)
    with pytest.raises(ConfigError, match="not a readable JSON file"):
        load_credentials({"COINBASE_KEY_FILE": str(broken)})
    nokey = write_key_file(tmp_path / "nokey.json", 0o600, {"name": "n"})
    with pytest.raises(ConfigError, match="has no 'privateKey' string"):
        load_credentials({"COINBASE_KEY_FILE": str(nokey)})


def test_credentials_never_come_from_a_profile_or_argument(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="credentials come from COINBASE_API_KEY"):
        load_config("canary", overrides={"credentials": {"api_secret": "x"}})


def test_config_carries_credentials_but_never_shows_them(clean_env: dict[str, str]) -> None:
    env = {**clean_env, "COINBASE_API_KEY": "organizations/o/apiKeys/k-wxyz", "COINBASE_API_SECRET": PEM}
    config = load_config("canary", env=env)
    assert config.credentials is not None
    shown = json.dumps(config.to_display_dict()) + repr(config) + str(config)
    assert "MHcCAQEEIBkg4LVWM9nuwNSkvGwPLzUcbf" not in shown
    assert "apiKeys/k-wxyz" not in shown
    assert config.to_display_dict()["credentials"]["api_key"] == "****wxyz"


def test_redact_patterns() -> None:
    jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJvcmdhbml6YXRpb25zIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    assert redact(f"Authorization: Bearer {jwt}") == "Authorization: Bearer **********"
    assert redact(f"token={jwt} done") == "token=********** done"
    assert "MHcCAQEE" not in redact(f"key: {PEM}")
    assert redact("price 100.00 BTC-USD") == "price 100.00 BTC-USD"


def test_logging_filter_redacts_message_args_and_tracebacks() -> None:
    secret = Secret("s3cr3t-value-for-logging")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("gpttrader.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting with %s and %s", secret.reveal(), "Bearer abc.def-ghi")
        try:
            raise RuntimeError(f"auth failed for {secret.reveal()}")
        except RuntimeError:
            logger.exception("request failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "s3cr3t-value-for-logging" not in output
    assert "abc.def-ghi" not in output
    assert output.count("**********") >= 3
    assert "RuntimeError" in output


def test_configure_logging_is_idempotent_and_guards_every_root_handler(capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    foreign_stream = io.StringIO()
    foreign = logging.StreamHandler(foreign_stream)
    root.handlers[:] = [foreign]
    try:
        configure_logging("INFO")
        configure_logging("INFO")
        assert len(root.handlers) == 2
        secret = Secret("configured-logging-secret")
        logging.getLogger("gpttrader.any").info("key=%s", secret.reveal())
        assert "configured-logging-secret" not in foreign_stream.getvalue()
        assert "key=**********" in foreign_stream.getvalue()
        assert "key=**********" in capfd.readouterr().err
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
