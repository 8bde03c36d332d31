"""Tokens made by hand, as clients other than the official SDK make them, and raw requests that carry them.
A helper module, not a test module: import from it freely."""

import asyncio
import json
import secrets
import ssl
import time
from typing import Any

import jwt
import requests
import websockets
from cryptography.hazmat.primitives import serialization

from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.sandbox import RunningSandbox

ACCOUNTS = "/api/v3/brokerage/accounts"


def key_of(sandbox: RunningSandbox) -> dict[str, str]:
    key: dict[str, str] = json.loads(sandbox.settings.key_files[0].read_text())
    return key


def make_token(
    sandbox: RunningSandbox,
    uri: str | None,
    *,
    claims: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """A token signed by the sandbox's first key: the SDK's claims (`iss: cdp`, two minutes, a fresh nonce),
    with `uri` when given, changed by `claims` and `header`, without the claims or header fields in `drop`."""
    key = key_of(sandbox)
    now = int(time.time())
    body: dict[str, Any] = {"sub": key["name"], "iss": "cdp", "nbf": now, "exp": now + 120}
    if uri is not None:
        body["uri"] = uri
    body.update(claims or {})
    fields: dict[str, Any] = {"kid": key["name"], "nonce": secrets.token_hex(), **(header or {})}
    for name in drop:
        body.pop(name, None)
        fields.pop(name, None)
    private = serialization.load_pem_private_key(key["privateKey"].encode(), password=None)
    return jwt.encode(body, private, algorithm="ES256", headers=fields)  # type: ignore[arg-type]


def rest_uri(sandbox: RunningSandbox, path: str = ACCOUNTS, method: str = "GET") -> str:
    return f"{method} {sandbox.base_url}{path}"


def raw_get(sandbox: RunningSandbox, path: str, token: str | None) -> requests.Response:
    session = requests.Session()
    assert sandbox.cert_path is not None
    trust_certificate(session, sandbox.base_url, sandbox.cert_path)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return session.get(f"https://{sandbox.base_url}{path}", headers=headers, timeout=10)


def subscribe_user(sandbox: RunningSandbox, tokens: list[str]) -> list[dict[str, Any]]:
    """Subscribe to the user channel once per token, on one raw connection; the first answer to each."""

    async def talk() -> list[dict[str, Any]]:
        context = ssl.create_default_context(cafile=str(sandbox.cert_path)) if sandbox.cert_path else None
        answers = []
        async with websockets.connect(sandbox.ws_url, ssl=context) as ws:
            for token in tokens:
                await ws.send(json.dumps({"type": "subscribe", "channel": "user", "product_ids": [], "jwt": token}))
                answers.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
                if answers[-1].get("channel") == "subscriptions":
                    await asyncio.wait_for(ws.recv(), 5)  # the snapshot that follows an acknowledgement
        return answers

    return asyncio.run(talk())
