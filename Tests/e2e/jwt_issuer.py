"""A throwaway token issuer for end-to-end tests of policies that need a verified principal
(rate limits per principal, private cache partitions): one RSA key, its JWKS file, RS256 tokens
minted with PyJWT for the real clock.

The `jwtAuth` policy is the bundled JWT filter (Plugins/jwt, `libmcpgate_jwt.so` next to the gateway);
`jwt_plugin_missing()` says why a test must be skipped when it is not built.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

import harness

ISSUER = "https://issuer.e2e.example"
AUDIENCE = "mcpgate-e2e"


def jwt_plugin_missing() -> str | None:
    """None when the gateway can load jwtAuth, else the reason to skip."""
    if not (harness.REPO_ROOT / "Plugins" / "jwt").is_dir():
        return "jwtAuth needs the bundled JWT plugin (Plugins/jwt, issue 5), which is not in this tree yet"
    if not harness.plugin_path("jwt").is_file():
        return (
            f"jwtAuth needs the bundled JWT plugin built next to the gateway ({harness.plugin_path('jwt')} is missing: "
            "`swift build` once Package.swift has the mcpgate_jwt product)"
        )
    return None


class Issuer:
    """One RSA signing key (kid `e2e-1`) and the JWKS file a `jwtAuth` policy reads."""

    def __init__(self, directory: Path):
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        warnings.filterwarnings("ignore", message=".*minimum recommended size.*")
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "e2e-1", "alg": "RS256", "use": "sig"})
        self.jwks_path = Path(directory) / "jwks.json"
        self.jwks_path.write_text(json.dumps({"keys": [jwk]}))

    def policy(self) -> dict[str, Any]:
        """The route's `jwtAuth` body."""
        return {"issuer": ISSUER, "audiences": [AUDIENCE], "jwks": {"file": str(self.jwks_path)}}

    def token(self, subject: str, ttl: int = 3600) -> str:
        import jwt

        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "nbf": now - 5, "exp": now + ttl}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "e2e-1"})

    def bearer(self, subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject)}"}
