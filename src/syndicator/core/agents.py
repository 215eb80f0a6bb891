"""Feed aggregators that report their subscribers in the User-Agent: which one, and how many.

The formats, as the services send them:

- ``Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers; feed-id=…)``
- ``Mozilla/5.0 (compatible; inoreader.com; 7 subscribers)``
- ``NewsBlur Feed Fetcher - 5 subscribers - https://www.newsblur.com/site/123/x (Mozilla/5.0 …)``
- ``Feedbin feed-id:123 - 3 subscribers``
- ``Mozilla/5.0 (compatible; theoldreader.com; 2 subscribers; feed-id=abc9)``
- ``Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 3 subscribers)``
- ``Netvibes (crawler/bot; http://www.netvibes.com; 12 subscribers; feedID: 123)``

(one subscriber is "1 subscriber"). Only these named services count: any
other agent that claims readers is one client, so a made-up agent cannot add
a row per name. No I/O.
"""

from __future__ import annotations

import re

AGGREGATORS: dict[str, tuple[str, re.Pattern[str]]] = {  # kind -> (display name, how its agent starts or reads)
    "feedly": ("Feedly", re.compile(r"^Feedly/", re.IGNORECASE)),
    "inoreader": ("Inoreader", re.compile(r"\binoreader\b", re.IGNORECASE)),
    "newsblur": ("NewsBlur", re.compile(r"\bNewsBlur Feed Fetcher\b", re.IGNORECASE)),
    "feedbin": ("Feedbin", re.compile(r"^(?:Mozilla/5\.0 \(compatible; )?Feedbin\b", re.IGNORECASE)),
    "theoldreader": ("The Old Reader", re.compile(r"\btheoldreader\.com\b", re.IGNORECASE)),
    "bazqux": ("BazQux", re.compile(r"\bBazQux/", re.IGNORECASE)),
    "netvibes": ("Netvibes", re.compile(r"^Netvibes\b", re.IGNORECASE)),
}
_COUNT = re.compile(r"(?<![\d,])(\d{1,3}(?:,\d{3}){0,2}|\d{1,9})\s+subscribers?\b", re.IGNORECASE)
MAX_AGENT = 512  # characters of a User-Agent looked at


def reported(agent: str) -> tuple[str, int] | None:
    """(aggregator kind, subscribers) when a known aggregator's agent reports them; None otherwise."""
    agent = agent[:MAX_AGENT]
    count = _COUNT.search(agent)
    if count is None:
        return None
    for kind, (_name, pattern) in AGGREGATORS.items():
        if pattern.search(agent):
            return kind, int(count.group(1).replace(",", ""))
    return None


def display_name(kind: str) -> str:
    """How a kind of count is shown: the aggregator's name, or the kind itself."""
    known = AGGREGATORS.get(kind)
    return known[0] if known is not None else kind
