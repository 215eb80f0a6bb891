"""A remote fediverse server on loopback, for tests, built on bovine's signing and verifying code (not ours).

It has one account, ``/users/<name>``, with an RSA key bovine made, an inbox
and a shared inbox. It sends Follow and Undo signed by bovine (draft-cavage,
as bovine's ``signed_post`` signs them) and checks every activity POSTed to
it with bovine's ``SignatureChecker``, fetching the signer's key over HTTP
from whoever signed it. ``received`` holds every activity with the actor
bovine verified it came from (None: the signature did not hold).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests
from bovine.crypto import build_validate_http_signature_raw
from bovine.crypto import generate_rsa_public_private_key
from bovine.crypto.helper import content_digest_sha256
from bovine.crypto.http_signature import build_signature
from bovine.crypto.types import CryptographicIdentifier
from bovine.crypto.types import CryptographicSecret
from bovine.utils import get_gmt_now

ACTIVITY_JSON = "application/activity+json"


@dataclass
class Delivery:
    """An activity POSTed to the remote server: where, what, and whom bovine says signed it."""

    path: str
    activity: dict[str, Any]
    signer: str | None
    headers: dict[str, str]


@dataclass
class RemoteServer:
    """Remote accounts on a loopback port; ``inbox_statuses`` are answered to POSTs first (then 202).

    ``names``: its accounts (sharing one key pair and one shared inbox); ``padding``: bytes added to their
    documents (to make them too large).
    """

    names: tuple[str, ...] = ("reader",)
    address: str = "127.0.0.1"
    padding: int = 0
    inbox_statuses: list[int] = field(default_factory=list)
    received: list[Delivery] = field(default_factory=list)
    fetches: list[str] = field(default_factory=list)
    shared_inbox: bool = True

    def __post_init__(self) -> None:
        self.public_pem, self.private_pem = generate_rsa_public_private_key()
        self._lock = threading.Lock()
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                remote.fetches.append(self.path)
                name = urlsplit(self.path).path.removeprefix("/users/")
                if name in remote.names:
                    self._answer(200, json.dumps(remote.actor_document(name)).encode(), ACTIVITY_JSON)
                else:
                    self._answer(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                signer = remote.verify("post", f"{remote.url}{self.path}", headers, body)
                with remote._lock:
                    remote.received.append(Delivery(self.path, json.loads(body), signer, headers))
                    status = remote.inbox_statuses.pop(0) if remote.inbox_statuses else 202
                self._answer(status, b"", "text/plain")

            def _answer(self, status: int, body: bytes, media_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((self.address, 0), Handler)
        self.url = f"http://{self.address}:{self.server.server_port}"
        self.actor_id = self.actor_of(self.names[0])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def actor_of(self, name: str) -> str:
        return f"{self.url}/users/{name}"

    def actor_document(self, name: str) -> dict[str, Any]:
        actor_id = self.actor_of(name)
        document: dict[str, Any] = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": self.public_pem},
        }
        if self.shared_inbox:
            document["endpoints"] = {"sharedInbox": f"{self.url}/inbox"}
        if self.padding:
            document["summary"] = "x" * self.padding
        return document

    def verify(self, method: str, url: str, headers: dict[str, str], body: bytes) -> str | None:
        """Whom bovine's SignatureChecker says signed a request (it fetches the key from the keyId's server)."""

        async def retrieve(key_id: str) -> CryptographicIdentifier | None:
            answer = await asyncio.to_thread(
                requests.get, key_id.partition("#")[0], headers={"Accept": ACTIVITY_JSON}, timeout=10
            )
            data = answer.json()
            key = data.get("publicKey", data)
            if key.get("id") != key_id:
                return None
            return CryptographicIdentifier.from_pem(key["publicKeyPem"], key["owner"])

        async def body_of() -> bytes:
            return body

        validate = build_validate_http_signature_raw(retrieve)
        result: str | None = asyncio.run(validate(method, url, headers, body_of))
        return result

    def signed_post(self, url: str, activity: dict[str, Any], **changes: Any) -> requests.Response:
        """POST an activity signed by bovine as its ``signed_post`` does.

        ``changes`` tamper with it: ``date`` (its Date), ``body`` (sent instead of the signed one),
        ``private_pem`` (another key signs), ``key_id`` (the key named).
        """
        signed = json.dumps(activity).encode()
        body = changes.get("body") or signed
        parts = urlsplit(url)
        date = changes.get("date") or get_gmt_now()
        digest = content_digest_sha256(signed)
        signature = (
            build_signature(parts.netloc, "post", parts.path)
            .with_field("date", date)
            .with_field("digest", digest)
            .with_field("content-type", ACTIVITY_JSON)
        )
        key_id = changes.get("key_id") or f"{activity['actor']}#main-key"
        secret = CryptographicSecret.from_pem(key_id, changes.get("private_pem") or self.private_pem)
        headers = {**signature.headers, "signature": signature.sign_for_http_draft(secret)}
        headers["content-type"] = ACTIVITY_JSON
        return requests.post(url, data=body, headers=headers, timeout=30)

    def follow(
        self, actor_id: str, inbox: str | None = None, name: str | None = None, **changes: Any
    ) -> tuple[dict[str, Any], requests.Response]:
        """Follow one of the site's accounts, at its inbox (or the one given), as one of ours (or ``actor``)."""
        follower = changes.pop("actor", None) or self.actor_of(name or self.names[0])
        follow = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{follower}#follows/{time.monotonic_ns()}",
            "type": "Follow",
            "actor": follower,
            "object": actor_id,
        }
        return follow, self.signed_post(inbox or f"{actor_id}/inbox", follow, **changes)

    def undo(self, follow: dict[str, Any], inbox: str) -> requests.Response:
        undo = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{follow['id']}/undo",
            "type": "Undo",
            "actor": follow["actor"],
            "object": {k: v for k, v in follow.items() if k != "@context"},
        }
        return self.signed_post(inbox, undo)

    def activities(self, kind: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self.received if kind is None or d.activity.get("type") == kind]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.05)
        return condition()
