"""RSS 1.0 Content (``content:encoded``): an RSS item's full HTML. feedgen writes it, and declares it on RSS roots.

No I/O.
"""

from __future__ import annotations

from syndicator.core.namespaces.parts import Namespace

URI = "http://purl.org/rss/1.0/modules/content/"

NAMESPACE = Namespace("content", "content", URI, entries_in=("rss",))
