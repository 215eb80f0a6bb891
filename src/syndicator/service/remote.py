"""Reading other servers' actors and keys, by the hub's rules: one look-up, checked, pinned, deadline, size cap.

A signed request names its key (``keyId``); the key's document (the actor,
or the key on its own) is fetched once and kept in the fediverse store, and
fetched again only when a signature fails with it (a rotated key), at most
once a minute. The actor's document gives the inbox a follower's deliveries
go to. Addresses are checked as the hub checks callbacks (no private ones
unless ``fediverse_allow_private``); a document over MAX_DOCUMENT bytes, a
server slower than the deadline, or a third request at once to the same
host is refused, so no server can hold the inbox's threads for long.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from syndicator import __version__
from syndicator.config import Settings
from syndicator.core.actors import ACTIVITY_JSON
from syndicator.outbound import RefusedError
from syndicator.outbound import Resolve
from syndicator.outbound import Target
from syndicator.outbound import parse_target
from syndicator.service.callbacks import send
from syndicator.store.fediverse import FollowerStore
from syndicator.store.fediverse import RemoteKey

logger = logging.getLogger(__name__)

USER_AGENT = f"Syndicator/{__version__} (ActivityPub)"
ACCEPT = f'{ACTIVITY_JSON}, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_DOCUMENT = 256 * 1024  # bytes of an actor's or key's document
MAX_URL_BYTES = 2048
FETCH_DEADLINE = 10.0  # seconds for one fetch, from the look-up to the last byte
PER_HOST = 2  # fetches from one host at once
REFRESH_AFTER = 60.0  # seconds before a key whose signature failed may be fetched again
CACHED = 256  # actor documents kept in memory for a minute (a Follow needs the key's and the actor's)
SignGet = Callable[[Target], dict[str, str]]  # the signed headers of a GET (authorized fetch)


class RemoteError(ValueError):
    """A remote document that cannot be had or used; ``busy`` when only this server's fetch cap refused it."""

    def __init__(self, message: str, *, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy


@dataclass(frozen=True, slots=True)
class RemoteActor:
    """What we use of a remote actor: its id, inbox and shared inbox ("" when it has none), and its host."""

    id: str
    inbox: str
    shared_inbox: str
    host: str


def host_of(url: str) -> str:
    """The host of a URL ("" when it is not an http(s) URL we would contact)."""
    try:
        return parse_target(url, "the URL", MAX_URL_BYTES).host
    except RefusedError:
        return ""


def without_fragment(url: str) -> str:
    return url.partition("#")[0]


class RemoteFetcher:
    """Fetches remote documents (signed, as servers in authorized-fetch mode want) and keeps their keys."""

    def __init__(
        self, settings: Settings, store: FollowerStore, sign_get: SignGet, resolve: Resolve, deadline: float
    ) -> None:
        self.settings, self.store, self._sign_get = settings, store, sign_get
        self._resolve, self._deadline = resolve, deadline
        self._lock = threading.Lock()
        self._busy: Counter[str] = Counter()
        self._documents: dict[str, tuple[float, dict[str, Any]]] = {}

    def document(self, url: str) -> dict[str, Any]:
        """A JSON object fetched from a URL (kept a minute); RemoteError saying why not."""
        url = without_fragment(url)
        kept = self._documents.get(url)
        if kept is not None and time.monotonic() - kept[0] < REFRESH_AFTER:
            return kept[1]
        try:
            target = parse_target(url, "a remote document's URL", MAX_URL_BYTES)
        except RefusedError as exc:
            raise RemoteError(str(exc)) from None
        with self._lock:
            if self._busy[target.host] >= PER_HOST:
                raise RemoteError(f"{target.host} is already being asked", busy=True)
            self._busy[target.host] += 1
        try:
            document = self._fetch(target, url)
        finally:
            with self._lock:
                self._busy[target.host] -= 1
                if not self._busy[target.host]:
                    del self._busy[target.host]
        if len(self._documents) >= CACHED:
            self._documents.clear()
        self._documents[url] = (time.monotonic(), document)
        return document

    def _fetch(self, target: Target, url: str) -> dict[str, Any]:
        headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT, **self._sign_get(target)}
        reply = send(
            target,
            "GET",
            headers=headers,
            allow_private=self.settings.fediverse_allow_private,
            resolve=self._resolve,
            deadline=self._deadline,
            max_bytes=MAX_DOCUMENT + 1,
        )
        if reply.status != 200:
            raise RemoteError(f"{url} answered {reply.status or reply.error}")
        if len(reply.body) > MAX_DOCUMENT:
            raise RemoteError(f"{url} is larger than {MAX_DOCUMENT} bytes")
        try:
            document = json.loads(reply.body)
        except ValueError:
            raise RemoteError(f"{url} is not JSON") from None
        if not isinstance(document, dict):
            raise RemoteError(f"{url} is not a JSON object")
        return document

    def key(self, key_id: str, *, refresh: bool = False) -> RemoteKey:
        """The key a signature names: kept, or fetched (again, with ``refresh``, when the kept one is a minute old)."""
        kept = self.store.remote_key(key_id)
        if kept is not None and not (refresh and time.time() - kept.fetched_at > REFRESH_AFTER):
            return kept
        if refresh:
            self._documents.pop(without_fragment(key_id), None)
        found = key_in(self.document(key_id), key_id)
        key = RemoteKey(key_id, found[0], found[1], time.time())
        self.store.keep_key(key)
        return key

    def actor(self, actor_id: str) -> RemoteActor:
        """A remote actor's inboxes, from its document (which must be its own, on its own host)."""
        document = self.document(actor_id)
        host = host_of(actor_id)
        if document.get("id") != actor_id or not host:
            raise RemoteError(f"{actor_id} does not describe itself")
        inbox = document.get("inbox")
        if not isinstance(inbox, str) or host_of(inbox) != host:
            raise RemoteError(f"{actor_id} has no inbox on its own host")
        endpoints = document.get("endpoints")
        shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
        shared = shared if isinstance(shared, str) and host_of(shared) == host else ""
        return RemoteActor(actor_id, inbox, shared, host)


def key_in(document: dict[str, Any], key_id: str) -> tuple[str, str]:
    """(owner, PEM) of the key ``key_id`` in its document: an actor's ``publicKey`` (one or a list), or the key."""
    candidates: list[Any] = [document]
    keys = document.get("publicKey")
    candidates += keys if isinstance(keys, list) else [keys]
    for key in candidates:
        if not isinstance(key, dict) or key.get("id") != key_id:
            continue
        owner = key.get("owner", document.get("id") if key is not document else None)
        pem = key.get("publicKeyPem")
        if isinstance(owner, str) and isinstance(pem, str) and len(pem) < 16_384:
            if host_of(owner) != host_of(key_id) or not host_of(owner):
                raise RemoteError(f"the key {key_id} is not on its owner's host")
            return owner, pem
    raise RemoteError(f"{without_fragment(key_id)} does not hold the key {key_id}")
