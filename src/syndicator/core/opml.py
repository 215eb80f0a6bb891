"""The OPML 2.0 list of every category's, tag's and author's Atom feed, for a reader to subscribe to all at once.

Deterministic: dated by the newest first entry of any feed. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from email.utils import format_datetime

from syndicator.config import Settings
from syndicator.core.markup import xml_escape
from syndicator.core.markup import xml_legal
from syndicator.core.markup import xml_quoteattr
from syndicator.core.plan import FeedSpec
from syndicator.core.urls import SITE_FEED
from syndicator.core.urls import feed_url

EMPTY_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)  # as an empty feed's: byte-stable


def opml_newest(specs: Iterable[FeedSpec]) -> datetime:
    """The OPML's dateModified: the newest first entry of any feed."""
    return max((p.updated for spec in specs for p in spec.posts[:1]), default=EMPTY_UPDATED)


def opml(specs: Sequence[FeedSpec], settings: Settings) -> bytes:
    """OPML 2.0 list of every category's, tag's and author's Atom feed."""
    return _render_opml(specs, settings, opml_newest(specs))


def _render_opml(specs: Sequence[FeedSpec], settings: Settings, newest: datetime) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{xml_escape(xml_legal(settings.site_title)[0])}</title>",
        f"    <dateModified>{format_datetime(newest)}</dateModified>",
        "  </head>",
        "  <body>",
    ]
    for spec in specs:
        if spec.stem == SITE_FEED or spec.is_archive:
            continue
        xml_url = feed_url(settings, spec.stem, "atom", spec.prefix)
        lines.append(
            f'    <outline type="rss" text={xml_quoteattr(spec.title)} title={xml_quoteattr(spec.title)}'
            f" xmlUrl={xml_quoteattr(xml_url)} htmlUrl={xml_quoteattr(spec.page_url)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")
