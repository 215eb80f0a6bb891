"""What the inboxes do with a request: check its signature, then follow, unfollow or forget.

Order of the checks, so that nothing unchecked changes anything: the
signature's presence, freshness and digest (401), the body as an activity
(400), the signer's key (fetched by the hub's rules: 401 when it cannot be
had, 503 when its host is asked too often at once), the key's owner is the
activity's actor and the signature holds (401). Then ``Follow`` of one of our
accounts adds a follower (429 past the caps per host and in all) and queues
its ``Accept``; ``Undo`` of a ``Follow`` removes it; ``Delete`` of the actor
itself removes all its follows. Anything else is accepted and ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syndicator.config import Settings
from syndicator.core.activities import accept
from syndicator.core.activities import encode
from syndicator.core.actors import ACTORS
from syndicator.core.actors import find_actor
from syndicator.core.catalog import Catalog
from syndicator.outbound import is_local_name
from syndicator.outbound import is_public
from syndicator.outbound import parse_target
from syndicator.service.httpsig import Incoming
from syndicator.service.httpsig import SignatureError
from syndicator.service.httpsig import key_id_of
from syndicator.service.httpsig import load_public_key
from syndicator.service.httpsig import verify
from syndicator.service.remote import MAX_URL_BYTES
from syndicator.service.remote import RemoteError
from syndicator.service.remote import RemoteFetcher
from syndicator.service.remote import host_of
from syndicator.store.fediqueue import DeliveryQueue
from syndicator.store.fediverse import Follower
from syndicator.store.fediverse import FollowerStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FollowLimits:
    """The most follows kept: from one remote host, and in all (a Follow past one is answered 429)."""

    per_host: int = 1000
    total: int = 100_000


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    message: str


ACCEPTED = Answer(202, "accepted")


class Inbox:
    """Handles what the inboxes receive, for the federation that owns the stores."""

    def __init__(
        self,
        settings: Settings,
        followers: FollowerStore,
        queue: DeliveryQueue,
        remote: RemoteFetcher,
        limits: FollowLimits,
        kick: Callable[[], None],
    ) -> None:
        self.settings, self.followers, self.queue, self.remote = settings, followers, queue, remote
        self.limits, self._kick = limits, kick

    def receive(self, request: Incoming, catalog: Catalog, now: datetime, clock: float) -> Answer:
        """Check a request and act on its activity; the answer's status says how it went."""
        try:
            key_id = key_id_of(request, now)
        except SignatureError as exc:
            return Answer(401, str(exc))
        activity = _activity(request.body)
        if activity is None:
            return Answer(400, "the body is not an activity (a JSON object with a type and an actor)")
        actor = _id(activity.get("actor"))
        if host_of(actor) != host_of(key_id) or not actor:
            return Answer(401, "the signature's key is not on the actor's host")
        gone = activity.get("type") == "Delete" and _id(activity.get("object")) == actor
        if gone and self.followers.remote_key(key_id) is None:
            return ACCEPTED  # an account we never heard of is gone: nothing to check, nothing to change
        checked = self._check(request, key_id, actor, now)
        if checked is not None:
            return checked
        return self._act(activity, actor, catalog, clock)

    def _check(self, request: Incoming, key_id: str, actor: str, now: datetime) -> Answer | None:
        """None when the request is signed by its actor's key; else the answer refusing it."""
        for refresh in (False, True):
            try:
                key = self.remote.key(key_id, refresh=refresh)
            except RemoteError as exc:
                return Answer(503 if exc.busy else 401, f"the signer's key cannot be had: {exc}")
            if key.owner != actor:
                return Answer(401, "the signer's key is not the actor's")
            try:
                verify(request, load_public_key(key.pem), now)
            except SignatureError as exc:
                error = exc
                continue
            return None
        logger.info("fediverse inbox refused key=%s reason=%s", key_id, error)
        return Answer(401, str(error))

    def _act(self, activity: dict[str, Any], actor: str, catalog: Catalog, clock: float) -> Answer:
        kind = activity.get("type")
        if kind == "Follow":
            return self._follow(activity, actor, catalog, clock)
        if kind == "Undo":
            inner = activity.get("object")
            if isinstance(inner, str):
                self.followers.unfollow(actor, follow_id=inner)
            elif isinstance(inner, dict) and inner.get("type") == "Follow" and _id(inner.get("actor"), actor) == actor:
                handle = self._handle(_id(inner.get("object")))
                if handle is not None:
                    self.followers.unfollow(actor, handle)
                else:
                    self.followers.unfollow(actor, follow_id=_id(inner.get("id")))
            logger.info("fediverse undo actor=%s", actor)
            return ACCEPTED
        if kind == "Delete" and _id(activity.get("object")) == actor:
            self.followers.unfollow(actor)
            self.followers.forget_keys(actor)
        return ACCEPTED

    def _follow(self, activity: dict[str, Any], actor: str, catalog: Catalog, clock: float) -> Answer:
        handle = self._handle(_id(activity.get("object")))
        if handle is None or find_actor(catalog, self.settings, handle) is None:
            return Answer(404, "no such account here")
        try:
            remote = self.remote.actor(actor)
        except RemoteError as exc:
            return Answer(503 if exc.busy else 400, f"the follower's document cannot be used: {exc}")
        if not self._may_contact(remote.inbox):
            return Answer(400, "the follower's inbox is not on a public address")
        if not self.followers.is_following(handle, actor):
            if self.followers.count(remote.host) >= self.limits.per_host:
                return Answer(429, f"{remote.host} has reached its {self.limits.per_host} follows")
            if self.followers.count() >= self.limits.total:
                return Answer(429, "this site holds its maximum of follows")
        follow = {k: v for k, v in activity.items() if k != "@context"}
        follower = Follower(handle, actor, remote.shared_inbox or remote.inbox, remote.host, _id(activity.get("id")))
        self.followers.follow(follower, clock)
        self.queue.add(remote.inbox, remote.host, handle, encode(accept(self.settings, handle, follow)), clock)
        logger.info("fediverse follow account=%s actor=%s", handle, actor)
        self._kick()
        return ACCEPTED

    def _handle(self, object_id: str) -> str | None:
        """The handle of one of our actor ids, or None."""
        root = f"{self.settings.base_url}{ACTORS}"
        handle = object_id.removeprefix(root)
        return handle if object_id.startswith(root) and handle and "/" not in handle else None

    def _may_contact(self, url: str) -> bool:
        """Whether an inbox may be delivered to, from its syntax alone (no look-up: that comes when it is)."""
        if self.settings.fediverse_allow_private:
            return True
        target = parse_target(url, "an inbox", MAX_URL_BYTES)
        literal = target.literal
        return not is_local_name(target.host) and (literal is None or is_public(literal))


def _activity(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        return None
    return document if _id(document.get("actor")) else None


def _id(value: object, default: str = "") -> str:
    """The id of an object given by id or embedded."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return default
    return value if isinstance(value, str) else ""
