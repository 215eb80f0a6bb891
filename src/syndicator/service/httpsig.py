"""HTTP Signatures, both kinds the fediverse sends: keys, signing, verifying.

- draft-cavage (``Signature: keyId=…,algorithm=…,headers=…,signature=…``), what
  Mastodon and most servers send and check: written here, in a few lines over
  ``cryptography``, because no maintained library does it without bringing a
  framework along (``requests-http-signature`` and ``http-message-signatures``
  moved to RFC 9421; ``httpsig`` is unmaintained since 2018; ``bovine``'s
  helpers come with aiohttp, pydantic and JSON-LD, and split the header on
  every comma). Outgoing requests are signed this way: ``(request-target) host
  date digest``, as Mastodon signs them.
- RFC 9421 (``Signature-Input`` + ``Signature``, Mastodon 4.4 and later),
  verified with ``http-message-signatures``; its ``Content-Digest`` is checked
  by that library too.

A request is stale when its ``Date`` (or its RFC 9421 ``created``) is more
than MAX_SKEW away from now.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from http_message_signatures import HTTPMessageSignaturesException
from http_message_signatures import HTTPMessageVerifier
from http_message_signatures import HTTPSignatureKeyResolver
from http_message_signatures import algorithms

MAX_SKEW = timedelta(hours=12)  # a Date further than this from now is stale
MAX_SIGNATURE_HEADER = 8192  # bytes of a Signature or Signature-Input header worth parsing
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([0-9.]+))\s*(?:,|$)')
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class SignatureError(ValueError):
    """A request is unsigned, badly signed or stale (answered 401); the message says which."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """A request as its signature covers it: method, path with query, header lines, body.

    ``hosts``: the Host values the sender may have signed (the one received,
    and site_url's, which a proxy in front may have rewritten); ``urls``: the
    same for the target URI of RFC 9421.
    """

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    hosts: tuple[str, ...]
    urls: tuple[str, ...]

    def header(self, name: str) -> str | None:
        """A header's value (its lines joined with ", "), or None."""
        values = [value.strip() for key, value in self.headers if key.lower() == name]
        return ", ".join(values) if values else None


def new_private_key() -> bytes:
    """A new RSA 2048 key, as PKCS#8 PEM (what Mastodon and every other server verify)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(private_pem: bytes) -> str:
    key = serialization.load_pem_private_key(private_pem, password=None)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public.decode("ascii")


def load_public_key(pem: str) -> PublicKey:
    """A remote actor's key; SignatureError when it is not a public key we can check with."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii", "replace"))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureError(f"the signer's key is not a usable public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise SignatureError("the signer's key is of a kind this server does not check")
    return key


class Signer:
    """Signs requests with the accounts' private keys (``private_key_of(handle)``, each loaded once)."""

    def __init__(self, private_key_of: Callable[[str], bytes]) -> None:
        self._pem_of = private_key_of
        self._keys: dict[str, rsa.RSAPrivateKey] = {}

    def headers(
        self, handle: str, key_id: str, request: tuple[str, str, str], body: bytes | None, now: datetime
    ) -> dict[str, str]:
        """The headers that sign a request (Host, Date, Digest for a body, Signature), draft-cavage rsa-sha256."""
        method, host, selector = request  # as sent: the Host header and the path with its query
        values = {"host": host, "date": email.utils.format_datetime(now.astimezone(UTC), usegmt=True)}
        if body is not None:
            values["digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        names = ["(request-target)", *values]
        lines = [f"(request-target): {method.lower()} {selector}", *(f"{k}: {v}" for k, v in values.items())]
        signature = self._key(handle).sign("\n".join(lines).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        header = (
            f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
            f'signature="{base64.b64encode(signature).decode("ascii")}"'
        )
        return {
            "Host": host,
            "Date": values["date"],
            **({"Digest": values["digest"]} if body is not None else {}),
            "Signature": header,
        }

    def _key(self, handle: str) -> rsa.RSAPrivateKey:
        key = self._keys.get(handle)
        if key is None:
            loaded = serialization.load_pem_private_key(self._pem_of(handle), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"the key of {handle} is not an RSA key")
            key = self._keys[handle] = loaded
        return key


def key_id_of(request: Incoming, now: datetime) -> str:
    """The keyId a request is signed with, once its freshness and digest hold; SignatureError otherwise."""
    if request.header("signature-input") is not None:
        return _rfc9421_key_id(request, now)
    params = cavage_params(request)
    fields = params.get("headers", "date").lower().split()
    missing = [f for f in ("(request-target)", "host", "date") if f not in fields]
    if request.body and "digest" not in fields:
        missing.append("digest")
    if missing:
        raise SignatureError(f"the signature does not cover {', '.join(missing)}")
    check_date(request.header("date"), now)
    if request.body:
        check_digest(request.header("digest"), request.body)
    if "keyId" not in params or "signature" not in params:
        raise SignatureError("the Signature header lacks keyId or signature")
    return params["keyId"]


def cavage_params(request: Incoming) -> dict[str, str]:
    """The parameters of a draft-cavage Signature header; SignatureError when there is none or it is malformed."""
    header = request.header("signature")
    if header is None:
        raise SignatureError("the request is not signed")
    if len(header) > MAX_SIGNATURE_HEADER:
        raise SignatureError("the Signature header is too long")
    params: dict[str, str] = {}
    position = 0
    while position < len(header):
        match = _PARAM.match(header, position)
        if match is None or match.end() == position:
            raise SignatureError("the Signature header is malformed")
        params[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    return params


def check_date(value: str | None, now: datetime) -> None:
    if value is None:
        raise SignatureError("the request has no Date")
    try:
        sent = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise SignatureError("the request's Date is not a date") from None
    if sent.tzinfo is None or abs(sent - now) > MAX_SKEW:
        raise SignatureError(f"the request's Date is more than {MAX_SKEW.total_seconds() / 3600:g} h from now")


def check_digest(value: str | None, body: bytes) -> None:
    """The ``Digest`` header must hold the body's SHA-256."""
    wanted = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    for part in (value or "").split(","):
        algorithm, _, given = part.strip().partition("=")
        if algorithm.lower() == "sha-256" and given == wanted:
            return
    raise SignatureError("the Digest header does not match the body" if value else "the request has no Digest")


def verify(request: Incoming, key: PublicKey, now: datetime) -> None:
    """Check the request's signature with the signer's key; SignatureError when it does not hold."""
    if request.header("signature-input") is not None:
        _verify_rfc9421(request, key)
        return
    params = cavage_params(request)
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError:
        raise SignatureError("the signature is not base64") from None
    fields = params.get("headers", "date").lower().split()
    for host in request.hosts:
        try:
            _check(key, signature, _signing_string(request, fields, params, host).encode("utf-8"))
        except (InvalidSignature, SignatureError):
            continue
        return
    raise SignatureError("the signature does not match the request")


def _signing_string(request: Incoming, fields: Iterable[str], params: Mapping[str, str], host: str) -> str:
    lines = []
    for name in fields:
        if name == "(request-target)":
            value: str | None = f"{request.method.lower()} {request.target}"
        elif name in ("(created)", "(expires)"):
            value = params.get(name.strip("()"))
        else:
            value = host if name == "host" else request.header(name)
        if value is None:
            raise SignatureError(f"the signed header {name} is missing")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _check(key: PublicKey, signature: bytes, message: bytes) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, message)
    else:
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))


class _Message:
    """A request as http-message-signatures reads it."""

    def __init__(self, request: Incoming, url: str) -> None:
        self.method = request.method.upper()
        self.url = url
        self.headers = _Lines(request.headers)


class _Lines:
    """Header lines in order (the interface http-message-signatures reads: items, iteration, membership)."""

    def __init__(self, lines: tuple[tuple[str, str], ...]) -> None:
        self._lines = lines

    def items(self) -> tuple[tuple[str, str], ...]:
        return self._lines

    def __iter__(self) -> Any:
        return iter(dict.fromkeys(name for name, _ in self._lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(key.lower() == name.lower() for key, _ in self._lines)


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, key: PublicKey) -> None:
        self.key = key

    def resolve_public_key(self, key_id: str) -> PublicKey:
        return self.key


def _rfc9421_key_id(request: Incoming, now: datetime) -> str:
    """The keyid of an RFC 9421 signature (one signature only), once its ``created`` is within MAX_SKEW of now.

    Checked again, with the rest, by http-message-signatures when the key is had.
    """
    header = request.header("signature-input") or ""
    if len(header) > MAX_SIGNATURE_HEADER:
        raise SignatureError("the Signature-Input header is too long")
    found = re.findall(r';\s*keyid="([^"\\]*)"', header)
    created = re.findall(r";\s*created=([0-9]{1,12})\b", header)
    if len(found) != 1 or len(created) != 1:
        raise SignatureError("the request must carry exactly one RFC 9421 signature with a keyid and created")
    if abs(datetime.fromtimestamp(int(created[0]), UTC) - now) > MAX_SKEW:
        raise SignatureError(f"the signature was created more than {MAX_SKEW.total_seconds() / 3600:g} h from now")
    return str(found[0])


def _verify_rfc9421(request: Incoming, key: PublicKey) -> None:
    """Verify with http-message-signatures: method and target URI covered, created within MAX_SKEW, body digested."""
    kind = _algorithm(key, request.header("signature-input") or "")
    verifier = HTTPMessageVerifier(signature_algorithm=kind, key_resolver=_OneKey(key))
    verifier.max_clock_skew = MAX_SKEW  # created may be this far ahead; max_age 0: this far behind
    error = "no signature"
    for url in request.urls:
        try:
            results = verifier.verify(_Message(request, url), max_age=timedelta(0), body=request.body)
        except HTTPMessageSignaturesException as exc:
            error = str(exc)
            continue
        covered = {name.split(";")[0].strip('"') for name in results[0].covered_components}
        if "@method" in covered and covered & {"@target-uri", "@path", "@request-target"}:
            return
        error = "the signature does not cover the method and the target"
    raise SignatureError(f"the RFC 9421 signature does not hold: {error}")


def _algorithm(key: PublicKey, signature_input: str) -> type[Any]:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return algorithms.ED25519
    if isinstance(key, ec.EllipticCurvePublicKey):
        return algorithms.ECDSA_P256_SHA256
    return algorithms.RSA_PSS_SHA512 if 'alg="rsa-pss-sha512"' in signature_input else algorithms.RSA_V1_5_SHA256
