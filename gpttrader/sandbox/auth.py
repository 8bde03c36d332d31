"""Verify a request's JWT as Coinbase does: signature by a known key, issuer and audience, a lifetime of at
most two minutes, one use per nonce, and the `uri` claim.

The `uri` claim binds a REST token to one method, host and path, so a token captured for one call cannot be
used for another; the sandbox checks it against the request it actually received. A WebSocket subscription
token carries no `uri`, so each kind is refused where the other belongs. The header's `nonce` makes every
token single-use: a token whose nonce was already used by a token still valid is a replay. Many hand-written
clients send no nonce; their tokens are accepted, and a replay of one is caught by its signature instead
(ES256 signatures are randomised; a token identical to an earlier one is a replay whoever made it).

Issuers: `cdp`, which the official SDK sends since 1.4.1, and `coinbase-cloud`, which it sent before and which
Coinbase's older samples and many other clients still send. An audience is optional (the SDK dropped it in
1.2.2); when given it must name the service the token is used on: `retail_rest_api_proxy` for REST,
`public_websocket_api` for the feed.
"""

import heapq
import time
from collections.abc import Mapping
from typing import Any

import jwt

from gpttrader.sandbox.keys import SandboxKey

ISSUERS = frozenset({"cdp", "coinbase-cloud"})
REST_AUDIENCE = "retail_rest_api_proxy"
WEBSOCKET_AUDIENCE = "public_websocket_api"
MAX_LIFETIME = 120  # seconds from nbf to exp: Coinbase's JWTs live two minutes
# A token may say it becomes valid up to this many seconds after the sandbox's now, for a client whose clock
# runs a little fast; expiry gets no allowance (a slow client clock only shortens its own tokens' lives).
CLOCK_SKEW = 5
MAX_NONCES = 100_000  # at 30 requests a second for two minutes per key, room for many keys


class AuthenticationFailed(Exception):
    """Why a token was refused. Coinbase answers a bare `Unauthorized`; the sandbox logs the reason (and the
    feed sends it in its error message), so that a test or a developer can see which rule refused it."""


class NonceLedger:
    """The nonces of accepted tokens, each kept until its token expires: a nonce seen again is a replay.

    Bounded: when full, the entries whose tokens expire soonest are forgotten first, so a flood of tokens can
    at worst re-open the replay of a token about to expire, never exhaust memory.
    """

    def __init__(self, capacity: int = MAX_NONCES) -> None:
        self.capacity = capacity
        self._expiry: dict[tuple[str, str], float] = {}
        self._by_expiry: list[tuple[float, tuple[str, str]]] = []

    def __len__(self) -> int:
        return len(self._expiry)

    def first_use(self, key_name: str, nonce: str, expires: float, now: float) -> bool:
        """Record the nonce of a token valid until `expires`; False if a valid token already used it."""
        while self._by_expiry and self._by_expiry[0][0] <= now:
            self._forget_soonest()
        entry = (key_name, nonce)
        if entry in self._expiry:
            return False
        while len(self._expiry) >= self.capacity:
            self._forget_soonest()
        self._expiry[entry] = expires
        heapq.heappush(self._by_expiry, (expires, entry))
        return True

    def _forget_soonest(self) -> None:
        _, entry = heapq.heappop(self._by_expiry)
        del self._expiry[entry]


class TokenVerifier:
    """Checks the tokens of REST requests and feed subscriptions against the trusted keys, remembering the
    nonces it accepted. Used from the sandbox's event loop only, so it takes no lock."""

    def __init__(self, keys: Mapping[str, SandboxKey]) -> None:
        self.keys = keys
        self.nonces = NonceLedger()

    def rest(self, authorization: str | None, *, method: str, host: str, path: str) -> SandboxKey:
        """A REST request's token: it must also be bound to this method, host and path by its `uri` claim."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthenticationFailed("missing bearer token")
        token = authorization.removeprefix("Bearer ").strip()
        return self._verify(token, uri=f"{method} {host}{path}", audience=REST_AUDIENCE)

    def websocket(self, token: str) -> SandboxKey:
        """A feed subscription's token: the same rules, but without a `uri` claim."""
        return self._verify(token, uri=None, audience=WEBSOCKET_AUDIENCE)

    def _verify(self, token: str, *, uri: str | None, audience: str) -> SandboxKey:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(f"malformed token: {exc}") from None
        key = self.keys.get(str(header.get("kid", "")))
        if key is None:
            raise AuthenticationFailed("unknown key id")
        if header.get("alg") != key.algorithm:
            raise AuthenticationFailed(f"algorithm {header.get('alg')} does not match the key ({key.algorithm})")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[key.algorithm],
                options={
                    "require": ["exp", "nbf", "sub", "iss"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(f"invalid token: {exc}") from None
        if claims["sub"] != key.name:
            raise AuthenticationFailed("subject does not match the key id")
        _check_issuer(claims, audience)
        now = time.time()
        expires = _check_lifetime(claims, now)
        _check_uri(claims, uri)
        nonce = header.get("nonce")
        once = str(nonce) if nonce not in (None, "") else "signature:" + token.rsplit(".", 1)[-1]
        if not self.nonces.first_use(key.name, once, expires, now):
            raise AuthenticationFailed("token replayed: its nonce was already used by a token still valid")
        return key


def _check_issuer(claims: Mapping[str, Any], audience: str) -> None:
    if claims["iss"] not in ISSUERS:
        raise AuthenticationFailed(f"issuer {claims['iss']!r} is not one of {', '.join(sorted(ISSUERS))}")
    if "aud" in claims:
        named = [claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"]
        if not isinstance(named, list) or audience not in named:
            raise AuthenticationFailed(f"audience {claims['aud']!r} does not name {audience}")


def _check_lifetime(claims: Mapping[str, Any], now: float) -> float:
    """When the token expires, once it is known to be valid now and to live no longer than Coinbase allows."""
    starts, expires = claims["nbf"], claims["exp"]
    if not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in (starts, expires)):
        raise AuthenticationFailed("nbf and exp must be UNIX seconds")
    if expires - starts > MAX_LIFETIME:
        raise AuthenticationFailed(f"token lives {expires - starts:g} s, longer than {MAX_LIFETIME} s")
    if expires <= now:
        raise AuthenticationFailed("token expired")
    if starts > now + CLOCK_SKEW:
        raise AuthenticationFailed(f"token not valid before {starts:g} (now {now:.0f}, {CLOCK_SKEW} s of skew allowed)")
    return float(expires)


def _check_uri(claims: Mapping[str, Any], uri: str | None) -> None:
    if uri is None and "uri" in claims:
        raise AuthenticationFailed("a REST token (with a uri claim) cannot subscribe to the feed")
    if uri is not None and "uri" not in claims:
        raise AuthenticationFailed("a WebSocket token (no uri claim) cannot authenticate a REST request")
    if uri is not None and claims["uri"] != uri:
        raise AuthenticationFailed(f"uri claim {claims['uri']!r} does not match the request {uri!r}")
