"""CDP-style API keys for the sandbox: made here, trusted by the sandbox, used by the SDK unchanged."""

import base64
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

KeyAlgorithm = Literal["ES256", "EdDSA"]
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class SandboxKey:
    name: str
    algorithm: KeyAlgorithm
    public_key: PublicKey
    can_view: bool = True
    can_trade: bool = True


def generate_key_file(path: Path, algorithm: KeyAlgorithm = "ES256") -> SandboxKey:
    """Write a key file as the CDP portal does (`name`, `privateKey`) with mode 0600 from the first byte."""
    name = f"organizations/sandbox/apiKeys/{uuid.uuid4()}"
    if algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        secret = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode()
        public: PublicKey = private.public_key()
    else:
        ed = ed25519.Ed25519PrivateKey.generate()
        raw = ed.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        pub_raw = ed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        secret = base64.b64encode(raw + pub_raw).decode()
        public = ed.public_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"name": name, "privateKey": secret}, handle, indent=2)
    os.chmod(path, 0o600)
    return SandboxKey(name, algorithm, public)


def trusted_key_from_file(path: Path, *, can_view: bool = True, can_trade: bool = True) -> SandboxKey:
    """The public half of a key file, for the sandbox to verify the JWTs made with it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    secret: str = data["privateKey"]
    if secret.lstrip().startswith("-----BEGIN"):
        private = serialization.load_pem_private_key(secret.encode(), password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path}: a PEM key must be an EC (P-256) key")
        return SandboxKey(data["name"], "ES256", private.public_key(), can_view, can_trade)
    raw = base64.b64decode("".join(secret.split()))
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
    return SandboxKey(data["name"], "EdDSA", ed.public_key(), can_view, can_trade)
