"""What the app's handlers and views share: the builder, the hub, the stores, and the one Snapshot a request sees.

They are kept in ``app.extensions["syndicator"]`` (Flask's place for an
extension's objects), made once by ``create_app``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Response
from flask import abort
from flask import current_app
from flask import g

from syndicator.config import Settings
from syndicator.core.urls import feed_stem
from syndicator.model import Category
from syndicator.service.audience import Audience
from syndicator.service.build import Builder
from syndicator.service.clients import Throttle
from syndicator.service.federation import Federation
from syndicator.service.following import Following
from syndicator.service.http.origin import Origins
from syndicator.service.hub import Hub
from syndicator.service.snapshot import Snapshot
from syndicator.store.partners import PartnerStore

EXTENSION = "syndicator"  # the key of Shared in app.extensions
RETRY_AFTER = 5  # seconds, while the first load runs
KINDS = "any(category, tag, author)"  # the taxonomies: each has an archive page and WordPress feed URLs


@dataclass(frozen=True, slots=True)
class Shared:
    """The objects every handler and view works with (``partners``, ``audience``, ``federation``, ``following``: None
    when off)."""

    settings: Settings
    builder: Builder
    hub: Hub | None
    partners: PartnerStore | None
    audience: Audience | None
    throttle: Throttle  # failed partner and /stats/ credentials, per client
    websub_slots: threading.BoundedSemaphore  # POST /websub bodies read at once
    federation: Federation | None  # the fediverse's accounts (``fediverse`` on)
    inbox_slots: threading.BoundedSemaphore  # inbox POSTs checked at once
    following: Following | None  # following by email (``smtp_url`` set)
    origins: Origins  # where readers reach the service that site_url does not name
    subscribe_slots: threading.BoundedSemaphore  # POST /subscribe bodies read at once


@contextlib.contextmanager
def slot(slots: threading.BoundedSemaphore) -> Iterator[bool]:
    """Whether one of ``slots`` was free, held while the block runs (a body read, a remote key fetched): slow
    clients hold at most the slots' threads, never those that answer feeds."""
    if not slots.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        slots.release()


def busy(message: str) -> Response:
    """503 for a request that found every slot held: try again shortly."""
    return Response(message, status=503, mimetype="text/plain", headers={"Retry-After": "5"})


def shared() -> Shared:
    """The app's shared objects (inside a request)."""
    value: Shared = current_app.extensions[EXTENSION]
    return value


def settings() -> Settings:
    return shared().settings


def builder() -> Builder:
    return shared().builder


def snapshot() -> Snapshot:
    """The snapshot this request sees: taken once, so a reload never mixes two in one answer."""
    taken: Snapshot | None = g.get("snapshot")
    if taken is None:
        taken = builder().snapshot
        if taken is None or taken.starting:
            abort(still_loading())
        g.snapshot = taken
    return taken


def still_loading() -> Response:
    """503 with Retry-After: the first load is not done (feeds an earlier run left are served meanwhile)."""
    return Response(
        "503 Service Unavailable: the posts are still loading; try again in a few seconds\n",
        status=503,
        mimetype="text/plain",
        headers={"Retry-After": str(RETRY_AFTER)},
    )


def group_or_404(kind: str, slug: str) -> Category:
    """A category, tag or author; 410 when it was published and is no more, 404 when it never was."""
    taken = snapshot()
    group = taken.catalog.taxonomy(kind).get(slug)
    if group is None:
        abort(410 if feed_stem(kind, slug) in taken.gone.feeds else 404)
    return group
