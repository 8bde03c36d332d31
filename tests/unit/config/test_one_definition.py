"""What looks like a secret is defined once (gpttrader.config.redaction): the log redaction and the refusal
of notebook parameters answer alike, so a pattern added for one cannot be missing from the other."""

import json
import re
from pathlib import Path

import pytest

from gpttrader.config.redaction import is_secret_name, redact
from gpttrader.runs import parameters
from gpttrader.runs.parameters import ParameterError, check_parameters

# Secret-looking values no Secret of this process holds: only the patterns can find them.
LOOKS_SECRET = {
    "pem": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBx\n-----END EC PRIVATE KEY-----",
    "bearer": "Authorization: Bearer abc.def-123",
    "jwt": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJvcmcifQ.c2lnbmF0dXJl",
    "cdp_key_name": "organizations/another-org/apiKeys/0f3e-91aa",
}


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    cell = {
        "cell_type": "code",
        "id": "parameters",
        "metadata": {"tags": ["parameters"]},
        "source": ["note = 'x'\n"],
        "outputs": [],
        "execution_count": None,
    }
    content = {
        "cells": [cell],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "one.ipynb"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", sorted(LOOKS_SECRET))
def test_what_a_log_line_redacts_a_notebook_parameter_may_not_hold(kind: str, notebook: Path) -> None:
    text = LOOKS_SECRET[kind]
    assert redact(text) != text, "the log redaction misses it"
    with pytest.raises(ParameterError, match="note: looks like a secret"):
        check_parameters(notebook, {"note": text})


def test_a_cdp_key_name_is_redacted_whole() -> None:
    assert "0f3e-91aa" not in redact(f"signed with {LOOKS_SECRET['cdp_key_name']} today")


def test_a_secret_looking_parameter_name_is_refused_by_the_shared_rule(notebook: Path) -> None:
    assert is_secret_name("api_key")
    assert is_secret_name("COINBASE_API_SECRET")
    assert not is_secret_name("note")
    with pytest.raises(ParameterError, match="api_key: looks like a secret"):
        check_parameters(notebook, {"api_key": "x"})
    assert check_parameters(notebook, {"note": "plain text"}) == {"note": "plain text"}


def test_notebook_parameters_define_no_secret_patterns_of_their_own() -> None:
    own = [name for name, value in vars(parameters).items() if isinstance(value, re.Pattern)]
    assert not own, f"gpttrader.runs.parameters defines patterns of its own: {own}"
