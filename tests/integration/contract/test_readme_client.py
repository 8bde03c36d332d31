"""README's "Pointing any Advanced Trade client at the sandbox", followed step by step: the documented command
in a process of its own, the README's own example run in another with only the documented variable set, and
a client outside the SDK trusting the certificate through SSL_CERT_FILE."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

README = Path(__file__).parents[3] / "README.md"
SECTION = "### Pointing any Advanced Trade client at the sandbox"
WEBSOCKET_CLIENT = """
import asyncio, json, ssl, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], ssl=ssl.create_default_context()) as ws:
        await ws.send(json.dumps({"type": "subscribe", "channel": "heartbeats", "product_ids": ["BTC-USD"]}))
        print(json.loads(await asyncio.wait_for(ws.recv(), 10))["channel"])
asyncio.run(main())
"""


def section() -> str:
    text = README.read_text()
    start = text.index(SECTION)
    return text[start : text.index("\n## ", start)]


@pytest.fixture
def started(clean_env: dict[str, str]) -> Iterator[tuple[str, Path, Path]]:
    """The command the section gives (on a free port): the address, certificate and key file it prints."""
    command = re.search(r"`(gpttrader sandbox --port 8443)`", section())
    assert command is not None
    args = command.group(1).replace("8443", "0").split()
    script = Path(sys.executable).with_name(args[0])
    proc = subprocess.Popen([str(script), *args[1:]], env=clean_env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        printed = ""
        while "certificate: " not in printed:
            line = proc.stdout.readline()
            assert line, "the sandbox exited before printing its certificate"
            printed += line
        address = re.findall(r"listening on https://(\S+)", printed)[0]
        cert = Path(re.findall(r"certificate: (\S+)", printed)[0])
        key = Path(re.findall(r"COINBASE_KEY_FILE=(\S+)\)", printed)[0])
        yield address, cert, key
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_readme_example_runs_against_the_documented_command(
    started: tuple[str, Path, Path], clean_env: dict[str, str]
) -> None:
    address, cert, key = started
    state = Path(clean_env["GPTTRADER_DATA_DIR"]) / "state" / "sandbox"
    assert (cert, key) == (state / "sandbox-cert.pem", state / "key.json")  # where the section says they are
    text = section()
    example = text.split("```python\n")[1].split("```")[0]
    assert "REQUESTS_CA_BUNDLE=data/state/sandbox/sandbox-cert.pem python hello.py" in text
    example = example.replace("127.0.0.1:8443", address).replace("data/state/sandbox/key.json", str(key))
    env = {**clean_env, "REQUESTS_CA_BUNDLE": str(cert)}
    ran = subprocess.run([sys.executable, "-c", example], env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "True FILLED"
    untrusted = {name: value for name, value in env.items() if name != "REQUESTS_CA_BUNDLE"}
    refused = subprocess.run([sys.executable, "-c", example], env=untrusted, capture_output=True, text=True, timeout=60)
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr  # the variable is what makes it work


def test_ssl_cert_file_makes_other_clients_trust_the_feed(started: tuple[str, Path, Path]) -> None:
    address, cert, _ = started
    assert "wss://127.0.0.1:8443/ws" in section()
    env = {**os.environ, "SSL_CERT_FILE": str(cert)}
    ran = subprocess.run(
        [sys.executable, "-c", WEBSOCKET_CLIENT, f"wss://{address}/ws"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() in ("subscriptions", "heartbeats")
