"""Let the SDK's own `requests` session reach a sandbox exchange over TLS with a self-signed certificate.

The SDK always builds https:// URLs, and setting `session.verify` is not enough: when REQUESTS_CA_BUNDLE
or CURL_CA_BUNDLE is set (common on managed machines), requests lets the environment's bundle override
the session's. A transport adapter mounted for the sandbox's origin alone carries an SSL context that
trusts the sandbox certificate whatever the environment says, and leaves every other host untouched.
"""

import ssl
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _TrustedCertificateAdapter(HTTPAdapter):
    def __init__(self, certificate: Path) -> None:
        self._context = ssl.create_default_context(cafile=str(certificate))
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def trust_certificate(session: requests.Session, base_url: str, certificate: Path) -> None:
    """Trust `certificate` for https://`base_url` (host:port) on `session`, and only there."""
    session.mount(f"https://{base_url}/", _TrustedCertificateAdapter(certificate))
