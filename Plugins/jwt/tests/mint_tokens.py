"""Test tokens and keys for the JWT filter, minted by an independent implementation (PyJWT +
cryptography), never by the filter's own C code.

Used two ways:
- `python mint_tokens.py OUT_DIR` writes what the C unit tests and the fuzz seed corpus read:
  jwks.json (public keys), jwks_rotated.json (the same plus a new key), cases.json (groups of
  config + tokens + expected outcome), tls/ (a self-signed server certificate for the HTTPS JWKS
  test, and an unrelated CA), seeds/ (one token per file for the fuzzer).
- `import mint_tokens` from Tests/e2e/test_jwt.py: the same keys and cases, minted for the real clock,
  driven through a live gateway.

Every case names its expected outcome: "ok" (with the principal the filter must set) or a rejection
(HTTP status, OAuth error code and a fragment of error_description).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

warnings.filterwarnings("ignore", message=".*below the minimum recommended size.*")

ISSUER = "https://issuer.example"
AUDIENCE = "https://mcp.example/mcp"
NOW = 1_700_000_000  # the C test host's wall clock (2023-11-14)
LEEWAY = 30


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


@dataclass
class Keys:
    hmac: bytes
    rsa: rsa.RSAPrivateKey
    rsa_other: rsa.RSAPrivateKey  # same kid as `rsa`, not in the JWKS
    rsa_small: rsa.RSAPrivateKey  # 1024 bits: listed in the JWKS, must be skipped
    ec256: ec.EllipticCurvePrivateKey
    ec384: ec.EllipticCurvePrivateKey
    ec521: ec.EllipticCurvePrivateKey
    ed25519: ed25519.Ed25519PrivateKey
    ed448: ed448.Ed448PrivateKey
    rotated: ec.EllipticCurvePrivateKey  # only in jwks_rotated.json
    extra: dict[str, Any] = field(default_factory=dict)


def make_keys() -> Keys:
    return Keys(
        hmac=os.urandom(64),
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa_other=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa_small=rsa.generate_private_key(public_exponent=65537, key_size=1024),
        ec256=ec.generate_private_key(ec.SECP256R1()),
        ec384=ec.generate_private_key(ec.SECP384R1()),
        ec521=ec.generate_private_key(ec.SECP521R1()),
        ed25519=ed25519.Ed25519PrivateKey.generate(),
        ed448=ed448.Ed448PrivateKey.generate(),
        rotated=ec.generate_private_key(ec.SECP256R1()),
    )


# (kid, algorithm, signing key attribute) for every algorithm the filter supports.
ALGORITHMS = [
    ("hs", "HS256", "hmac"),
    ("hs", "HS384", "hmac"),
    ("hs", "HS512", "hmac"),
    ("rsa", "RS256", "rsa"),
    ("rsa", "RS384", "rsa"),
    ("rsa", "RS512", "rsa"),
    ("rsa", "PS256", "rsa"),
    ("rsa", "PS384", "rsa"),
    ("rsa", "PS512", "rsa"),
    ("ec256", "ES256", "ec256"),
    ("ec384", "ES384", "ec384"),
    ("ec521", "ES512", "ec521"),
    ("ed25519", "EdDSA", "ed25519"),
    ("ed448", "EdDSA", "ed448"),
]


def jwk(kid: str, key: Any, **extra: Any) -> dict[str, Any]:
    if isinstance(key, bytes):
        d = HMACAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, rsa.RSAPrivateKey):
        d = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        d = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        d = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    d = dict(d)
    d["kid"] = kid
    d.update(extra)
    return d


def jwks(k: Keys, rotated: bool = False) -> dict[str, Any]:
    bad_point = jwk("ec-bad", k.ec256)
    bad_point["y"] = bad_point["x"]  # (x, x) is not on P-256: must be skipped at load
    keys = [
        jwk("hs", k.hmac, alg="HS256"),
        jwk("rsa", k.rsa, use="sig"),
        jwk("rsa-small", k.rsa_small),
        jwk("ec256", k.ec256, alg="ES256"),
        jwk("ec384", k.ec384),
        jwk("ec521", k.ec521),
        jwk("ed25519", k.ed25519),
        jwk("ed448", k.ed448),
        jwk("rsa-enc", k.rsa_other, use="enc"),  # not for signatures: skipped
        bad_point,
    ]
    # The HMAC key is listed once per HS algorithm size: a JWK with "alg" verifies only that alg.
    keys.append(jwk("hs", k.hmac, alg="HS384"))
    keys.append(jwk("hs", k.hmac, alg="HS512"))
    if rotated:
        keys.append(jwk("rotated", k.rotated, alg="ES256"))
    return {"keys": keys}


def claims(now: int, sub: str = "alice", **overrides: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now - 60, "nbf": now - 60, "exp": now + 3600}
    for name, value in overrides.items():
        if value is None:
            c.pop(name, None)
        else:
            c[name] = value
    return c


def sign(k: Keys, kid: str | None, alg: str, attr: str, payload: dict[str, Any], **headers: Any) -> str:
    h = dict(headers)
    if kid is not None:
        h["kid"] = kid
    return jwt.encode(payload, getattr(k, attr), algorithm=alg, headers=h)


def hs256_raw(secret: bytes, header: dict[str, Any] | str, payload: dict[str, Any] | str) -> str:
    """An HS256 token over arbitrary header/payload text (for malformed JSON), signed with hmac."""
    h = header if isinstance(header, str) else b64json(header)
    p = payload if isinstance(payload, str) else b64json(payload)
    sig = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(sig)}"


def ok(name: str, token: str, principal: str = "alice") -> dict[str, Any]:
    return {"name": name, "token": token, "expect": "ok", "principal": principal}


def rejected(name: str, token: str | None, description: str, status: int = 401, error: str | None = "invalid_token") -> dict[str, Any]:
    return {"name": name, "token": token, "expect": "reject", "status": status, "error": error, "description": description}


def core_cases(k: Keys, now: int, leeway: int = LEEWAY) -> list[dict[str, Any]]:
    """Every algorithm accepted, and every rejection, for a config with issuer ISSUER, audiences
    [AUDIENCE], `leeway` seconds of leeway, and jwks.json."""
    c = claims(now)
    out: list[dict[str, Any]] = []
    for kid, alg, attr in ALGORITHMS:
        out.append(ok(f"{alg} ({kid})", sign(k, kid, alg, attr, c)))
    out.append(ok("RS256 without kid (every RSA key is tried)", sign(k, None, "RS256", "rsa", c)))
    out.append(ok("ES256 without kid", sign(k, None, "ES256", "ec256", claims(now, sub="bob")), principal="bob"))
    out.append(ok("aud as a list containing ours", sign(k, "rsa", "RS256", "rsa", claims(now, aud=["other", AUDIENCE]))))
    out.append(ok("expired, within the leeway", sign(k, "rsa", "RS256", "rsa", claims(now, exp=now - leeway // 3))))
    out.append(ok("nbf ahead, within the leeway", sign(k, "ec256", "ES256", "ec256", claims(now, nbf=now + leeway // 3))))
    out.append(ok("no nbf and no iat", sign(k, "ed25519", "EdDSA", "ed25519", claims(now, nbf=None, iat=None))))
    out.append(ok("exp as a fraction", sign(k, "hs", "HS256", "hmac", claims(now, exp=now + 100.5))))

    # unsigned and algorithm games
    none_token = jwt.encode(c, None, algorithm="none")
    out.append(rejected("alg none", none_token, "alg none"))
    out.append(rejected("alg NONE", f"{b64json({'alg': 'NONE', 'kid': 'rsa'})}.{b64json(c)}.", "alg none"))
    out.append(rejected("alg none with a signature", f"{b64json({'alg': 'none'})}.{b64json(c)}.{b64(b'x' * 32)}", "alg none"))
    rsa_pem = k.rsa.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out.append(rejected("algorithm confusion: HS256 keyed with the RSA public key PEM",
                        hs256_raw(rsa_pem, {"alg": "HS256", "kid": "rsa", "typ": "JWT"}, c), "does not match the key"))
    rsa_jwk_n = base64.urlsafe_b64decode(jwk("rsa", k.rsa)["n"] + "==")
    out.append(rejected("algorithm confusion: HS256 keyed with the RSA modulus, no kid",
                        hs256_raw(rsa_jwk_n, {"alg": "HS256"}, c), "invalid signature"))
    out.append(rejected("RS256 token naming the HMAC key", sign(k, "hs", "RS256", "rsa", c), "does not match the key"))
    out.append(rejected("ES384 token naming the P-256 key", sign(k, "ec256", "ES384", "ec384", c), "does not match the key"))
    out.append(rejected("HS384 token naming the HS256-only JWK... and HS384 JWK with another secret",
                        jwt.encode(c, os.urandom(64), algorithm="HS384", headers={"kid": "hs"}), "invalid signature"))
    out.append(rejected("unknown alg", f"{b64json({'alg': 'XS256', 'kid': 'rsa'})}.{b64json(c)}.{b64(b'sig')}",
                        "unsupported signature algorithm"))
    out.append(rejected("crit header", sign(k, "hs", "HS256", "hmac", c, crit=["exp"]), "unsupported token header"))

    # keys and signatures
    out.append(rejected("unknown kid", sign(k, "nope", "ES256", "ec256", c), "unknown signing key"))
    out.append(rejected("kid of a skipped 1024-bit RSA key", sign(k, "rsa-small", "RS256", "rsa_small", c), "unknown signing key"))
    out.append(rejected("kid of a key for encryption (use=enc)", sign(k, "rsa-enc", "RS256", "rsa_other", c), "unknown signing key"))
    out.append(rejected("kid of a JWK with a point off the curve", sign(k, "ec-bad", "ES256", "ec256", c), "unknown signing key"))
    out.append(rejected("RS256 signed by another key with our kid", sign(k, "rsa", "RS256", "rsa_other", c), "invalid signature"))
    out.append(rejected("PS256 signed by another key with our kid", sign(k, "rsa", "PS256", "rsa_other", c), "invalid signature"))
    good = sign(k, "ec256", "ES256", "ec256", c)
    h, p, s = good.split(".")
    sig = bytearray(base64.urlsafe_b64decode(s + "=="))
    sig[5] ^= 1
    out.append(rejected("ES256 signature with a flipped bit", f"{h}.{p}.{b64(bytes(sig))}", "invalid signature"))
    der = k.ec256.sign(f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256()))
    out.append(rejected("ES256 signature in DER instead of R||S", f"{h}.{p}.{b64(der)}", "invalid signature"))
    out.append(rejected("payload swapped under a valid signature",
                        f"{h}.{b64json(claims(now, sub='mallory'))}.{s}", "invalid signature"))
    rs = sign(k, "rsa", "RS256", "rsa", c)
    h2, p2, s2 = rs.split(".")
    out.append(rejected("RS256 with an empty signature", f"{h2}.{p2}.", "invalid signature"))
    out.append(rejected("RS256 with a truncated signature", f"{h2}.{p2}.{b64(base64.urlsafe_b64decode(s2 + '==')[:-3])}", "invalid signature"))
    ed = sign(k, "ed25519", "EdDSA", "ed25519", c)
    h3, p3, s3 = ed.split(".")
    out.append(rejected("EdDSA token with another payload", f"{h3}.{b64json(claims(now, sub='root'))}.{s3}", "invalid signature"))

    # time
    out.append(rejected("expired", sign(k, "rsa", "RS256", "rsa", claims(now, exp=now - 3600)), "token expired"))
    out.append(rejected("expired just past the leeway", sign(k, "hs", "HS256", "hmac", claims(now, exp=now - leeway - 1)), "token expired"))
    out.append(rejected("not yet valid (nbf)", sign(k, "ec384", "ES384", "ec384", claims(now, nbf=now + leeway + 3600)), "not yet valid"))
    out.append(rejected("issued in the future (iat)", sign(k, "ed448", "EdDSA", "ed448", claims(now, iat=now + leeway + 3600)), "issued in the future"))
    out.append(rejected("no exp (required by default)", sign(k, "rsa", "PS384", "rsa", claims(now, exp=None)), "required claim is missing"))
    out.append(rejected("exp is a string", hs256_raw(k.hmac, {"alg": "HS256", "kid": "hs"}, claims(now, exp="tomorrow")), "malformed claim"))

    # issuer and audience
    out.append(rejected("wrong issuer", sign(k, "rsa", "RS512", "rsa", claims(now, iss="https://evil.example")), "wrong issuer"))
    out.append(rejected("no issuer", sign(k, "rsa", "RS512", "rsa", claims(now, iss=None)), "wrong issuer"))
    out.append(rejected("issuer differs by a trailing slash", sign(k, "ec521", "ES512", "ec521", claims(now, iss=ISSUER + "/")), "wrong issuer"))
    out.append(rejected("wrong audience", sign(k, "rsa", "PS512", "rsa", claims(now, aud="https://other.example/mcp")), "wrong audience"))
    out.append(rejected("audience list without ours", sign(k, "rsa", "PS512", "rsa", claims(now, aud=["a", "b"])), "wrong audience"))
    out.append(rejected("no audience", sign(k, "ec256", "ES256", "ec256", claims(now, aud=None)), "wrong audience"))

    # principal
    out.append(rejected("no sub", sign(k, "rsa", "RS256", "rsa", claims(now, sub=None)), "no principal"))
    out.append(rejected("sub is a number", sign(k, "rsa", "RS256", "rsa", claims(now, sub=42)), "no principal"))
    out.append(rejected("sub is empty", sign(k, "rsa", "RS256", "rsa", claims(now, sub="")), "no principal"))

    # malformed
    out.append(rejected("one part", "abcdef", "malformed token"))
    out.append(rejected("two parts", f"{h}.{p}", "malformed token"))
    out.append(rejected("five parts (JWE)", f"{h}.{p}.{s}.{s}.{s}", "unsupported token header"))
    out.append(rejected("four parts", f"{h}.{p}.{s}.{s}", "malformed token"))
    out.append(rejected("standard base64 alphabet", f"{h}.{p}.{base64.b64encode(base64.urlsafe_b64decode(s + '==')).decode()}", "malformed token"))
    out.append(rejected("padded base64url", f"{h}.{p}.{s}==", "malformed token"))
    # A 32-byte HS256 signature is 43 characters: the last one carries 2 unused bits, which must be 0.
    hs = sign(k, "hs", "HS256", "hmac", c)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = hs[-1]
    assert alphabet.index(last) % 4 == 0
    out.append(rejected("non-canonical base64url (unused bits set)", hs[:-1] + alphabet[alphabet.index(last) + 1], "malformed token"))
    out.append(rejected("header is not JSON", f"{b64(b'not json')}.{p}.{s}", "malformed token"))
    out.append(rejected("header is a JSON array", f"{b64json(['alg', 'HS256'])}.{p}.{s}", "malformed token"))
    out.append(rejected("payload is not JSON", hs256_raw(k.hmac, {"alg": "HS256", "kid": "hs"}, b64(b"{nope")), "malformed token"))
    out.append(rejected("payload is a JSON string", hs256_raw(k.hmac, {"alg": "HS256", "kid": "hs"}, b64json("alice")), "malformed token"))
    dup = b64(b'{"sub":"alice","sub":"root","iss":"%s","aud":"%s","exp":%d}' % (ISSUER.encode(), AUDIENCE.encode(), now + 3600))
    out.append(rejected("duplicate claim names", hs256_raw(k.hmac, {"alg": "HS256", "kid": "hs"}, dup), "malformed token"))
    out.append(rejected("alg is a number", f"{b64json({'alg': 256})}.{p}.{s}", "malformed token"))
    out.append(rejected("kid is a number", f"{b64json({'alg': 'ES256', 'kid': 7})}.{p}.{s}", "malformed token"))
    out.append(rejected("too long", f"{h}.{b64(b'x' * 20000)}.{s}", "malformed token"))
    out.append(rejected("spaces inside the token", f"{h}. {p}.{s}", "malformed token"))
    return out


def scope_cases(k: Keys, now: int) -> list[dict[str, Any]]:
    """For toolScopes {"add": ["calc"], "admin_*": ["admin"]}: checked on tools/call of `tool`."""
    def tok(**kw: Any) -> str:
        return sign(k, "ec256", "ES256", "ec256", claims(now, **kw))

    return [
        {**ok("add with scope calc", tok(scope="read calc")), "tool": "add"},
        {**ok("add with scp list", tok(scp=["calc", "x"])), "tool": "add"},
        {**ok("a tool without required scopes", tok(scope="read")), "tool": "echo"},
        {**rejected("add without calc", tok(scope="read"), "needs more scopes", status=403, error="insufficient_scope"),
         "tool": "add", "scope": "calc"},
        {**rejected("add with no scope claim", tok(), "needs more scopes", status=403, error="insufficient_scope"),
         "tool": "add", "scope": "calc"},
        {**rejected("admin_reset needs admin", tok(scope="calc"), "needs more scopes", status=403, error="insufficient_scope"),
         "tool": "admin_reset", "scope": "admin"},
        {**ok("admin_reset with admin", tok(scope="admin")), "tool": "admin_reset"},
        {**rejected("scope prefix is not the scope", tok(scope="calculator"), "needs more scopes", status=403, error="insufficient_scope"),
         "tool": "add", "scope": "calc"},
    ]


def restricted_alg_cases(k: Keys, now: int) -> list[dict[str, Any]]:
    """For algorithms: [ES256, EdDSA]."""
    c = claims(now)
    return [
        ok("ES256 allowed", sign(k, "ec256", "ES256", "ec256", c)),
        ok("EdDSA allowed", sign(k, "ed25519", "EdDSA", "ed25519", c)),
        rejected("HS256 not allowed", sign(k, "hs", "HS256", "hmac", c), "not allowed"),
        rejected("RS256 not allowed", sign(k, "rsa", "RS256", "rsa", c), "not allowed"),
    ]


def self_signed(common_name: str, ip: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name), x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write_fixtures(out_dir: str) -> None:
    k = make_keys()
    os.makedirs(os.path.join(out_dir, "tls"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "seeds"), exist_ok=True)
    jwks_path = os.path.join(out_dir, "jwks.json")
    with open(jwks_path, "w") as f:
        json.dump(jwks(k), f)
    with open(os.path.join(out_dir, "jwks_rotated.json"), "w") as f:
        json.dump(jwks(k, rotated=True), f)
    base = {"issuer": ISSUER, "audiences": [AUDIENCE], "leeway": f"{LEEWAY}s", "jwks": {"file": jwks_path}}
    groups = [
        {"name": "core", "config": base, "cases": core_cases(k, NOW)},
        {"name": "scopes", "config": {**base, "toolScopes": {"add": ["calc"], "admin_*": ["admin"]}}, "cases": scope_cases(k, NOW)},
        {"name": "algorithms", "config": {**base, "algorithms": ["ES256", "EdDSA"]}, "cases": restricted_alg_cases(k, NOW)},
    ]
    rotated = sign(k, "rotated", "ES256", "rotated", claims(NOW, sub="carol"))
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump({"now": NOW, "groups": groups, "rotated_token": rotated,
                   "rs256_token": sign(k, "rsa", "RS256", "rsa", claims(NOW))}, f, indent=1)
    cert, key = self_signed("localhost", "127.0.0.1")
    other_cert, _ = self_signed("localhost", "127.0.0.1")
    for name, data in (("cert.pem", cert), ("key.pem", key), ("other-ca.pem", other_cert)):
        with open(os.path.join(out_dir, "tls", name), "wb") as f:
            f.write(data)
    n = 0
    for g in groups:
        for case in g["cases"]:
            if case["token"]:
                with open(os.path.join(out_dir, "seeds", f"token-{n:03d}"), "w") as f:
                    f.write(case["token"])
                n += 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: mint_tokens.py OUT_DIR")
    write_fixtures(sys.argv[1])
