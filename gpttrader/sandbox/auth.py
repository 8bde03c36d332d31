"""Verify a request's JWT as Coinbase does: signature by a known key, issuer, expiry and the `uri` claim.

The `uri` claim binds a token to one method, host and path, so a token captured for one call cannot be
replayed against another; the sandbox checks it against the request it actually received.
"""

import time
from collections.abc import Mapping

import jwt

from gpttrader.sandbox.keys import SandboxKey


class AuthenticationFailed(Exception):
    """Why a token was refused; the message goes into the 401 body's error_details."""


def verify_bearer(
    authorization: str | None,
    *,
    method: str,
    host: str,
    path: str,
    keys: Mapping[str, SandboxKey],
    now: float | None = None,
) -> SandboxKey:
    """A REST request's token: it must also be bound to this method, host and path by its `uri` claim."""
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthenticationFailed("missing bearer token")
    return verify_token(authorization.removeprefix("Bearer ").strip(), keys, uri=f"{method} {host}{path}", now=now)


def verify_token(
    token: str, keys: Mapping[str, SandboxKey], *, uri: str | None, now: float | None = None
) -> SandboxKey:
    """A token signed by a trusted key, issued by cdp, not expired; with `uri`, bound to it. WebSocket
    subscriptions carry tokens without a `uri` claim, as the SDK makes them."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed(f"malformed token: {exc}") from None
    key = keys.get(str(header.get("kid", "")))
    if key is None:
        raise AuthenticationFailed("unknown key id")
    if header.get("alg") != key.algorithm:
        raise AuthenticationFailed(f"algorithm {header.get('alg')} does not match the key ({key.algorithm})")
    moment = time.time() if now is None else now
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[key.algorithm],
            issuer="cdp",
            options={"require": ["exp", "nbf", "sub", "iss"], "verify_exp": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed(f"invalid token: {exc}") from None
    if claims["exp"] <= moment:
        raise AuthenticationFailed("token expired")
    if claims["nbf"] > moment + 5:
        raise AuthenticationFailed("token not yet valid")
    if claims["sub"] != key.name:
        raise AuthenticationFailed("subject does not match the key id")
    if uri is not None and claims.get("uri") != uri:
        raise AuthenticationFailed(f"uri claim {claims.get('uri')!r} does not match the request {uri!r}")
    return key
