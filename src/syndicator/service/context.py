"""What a request of the web app works with: the blueprint, the settings, the one Snapshot it sees.

Shared by the pages (``web``) and the old addresses (``oldurls``).
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import g

from syndicator.config import Settings
from syndicator.model import Category
from syndicator.service.build import Builder
from syndicator.service.snapshot import Snapshot

bp = Blueprint("syndicator", "syndicator")
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
        if taken is None:
            abort(503, "the posts are still loading")
        g.snapshot = taken
    return taken


def group_or_404(kind: str, slug: str) -> Category:
    group = snapshot().catalog.taxonomy(kind).get(slug)
    if group is None:
        abort(404)
    return group
