"""What a request of the web app works with: the blueprint, the settings, the one Snapshot it sees.

Shared by the pages (``web``) and the old addresses (``oldurls``).
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import g

from syndicator.config import Settings
from syndicator.core.urls import feed_stem
from syndicator.model import Category
from syndicator.service.build import Builder
from syndicator.service.snapshot import Snapshot

bp = Blueprint("syndicator", "syndicator")
RETRY_AFTER = 5  # seconds, while the first load runs
KINDS = "any(category, tag, author)"  # the taxonomies: each has an archive page and WordPress feed URLs


def settings() -> Settings:
    value: Settings = current_app.config["SYNDICATOR_SETTINGS"]
    return value


def builder() -> Builder:
    value: Builder = current_app.config["SYNDICATOR_BUILDER"]
    return value


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
