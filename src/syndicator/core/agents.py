"""Feed aggregators that report their subscribers in the User-Agent: which one, and how many.

A figure is believed only from a request whose whole User-Agent has the shape
that aggregator's fetcher sends, with its fetcher page or feed id where the
service puts one:

- ``Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers; feed-id=…)``
  (the part after the count is optional, as Feedly sends it both ways)
- ``Mozilla/5.0 (compatible; inoreader.com; 7 subscribers)``
- ``NewsBlur Feed Fetcher - 5 subscribers - https://www.newsblur.com/site/123/x (Mozilla/5.0 …)``
- ``Feedbin feed-id:123 - 3 subscribers``
- ``Mozilla/5.0 (compatible; theoldreader.com; 2 subscribers; feed-id=abc9)``
- ``Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 3 subscribers)``
- ``Netvibes (crawler/bot; http://www.netvibes.com; 12 subscribers; feedID: 123)``

(one subscriber is "1 subscriber"), and only up to MAX_SUBSCRIBERS. Any
other agent, one that merely names an aggregator (``Feedly/1.0 (999
subscribers)``) or claims more, counts as one client: a made-up agent can
neither add a row per name nor set a figure of its choosing beyond the cap.
The counts keep each aggregator's largest figure of the day, so a small one
does not wipe it either. No I/O.
"""

from __future__ import annotations

import re

MAX_AGENT = 512  # characters of a User-Agent kept and looked at
MAX_SUBSCRIBERS = 1_000_000  # a reported figure above this is not believed
_N = r"(?P<n>\d{1,3}(?:,\d{3})+|\d{1,9}) subscribers?"
_REST = r"[^()]*"  # the parts after the count: no parentheses
AGGREGATORS: dict[str, tuple[str, re.Pattern[str]]] = {  # kind -> (display name, the whole shape of its agent)
    "feedly": (
        "Feedly",
        re.compile(rf"Feedly/\d+(?:\.\d+)* \(\+https?://(?:www\.)?feedly\.com/[a-z]+\.html; {_N}(?:; {_REST})?\)"),
    ),
    "inoreader": ("Inoreader", re.compile(rf"Mozilla/5\.0 \(compatible; inoreader\.com; {_N}\)")),
    "newsblur": (
        "NewsBlur",
        re.compile(rf"NewsBlur Feed Fetcher - {_N} - https?://(?:www\.)?newsblur\.com/site/\d+/\S* \(.*\)"),
    ),
    "feedbin": ("Feedbin", re.compile(rf"Feedbin feed-id:\d+ - {_N}")),
    "theoldreader": (
        "The Old Reader",
        re.compile(rf"Mozilla/5\.0 \(compatible; theoldreader\.com; {_N}; feed-id=[0-9a-zA-Z]+\)"),
    ),
    "bazqux": (
        "BazQux",
        re.compile(rf"Mozilla/5\.0 \(compatible; BazQux/\d+(?:\.\d+)*; \+https://bazqux\.com/fetcher; {_N}\)"),
    ),
    "netvibes": ("Netvibes", re.compile(rf"Netvibes \(crawler/bot; https?://www\.netvibes\.com; {_N}; feedID: \d+\)")),
}


# What a feed reader, podcast app or crawler puts in a browser-like User-Agent (Thunderbird's is Mozilla/5.0 too).
_NOT_A_BROWSER = re.compile(
    r"compatible|feed|rss|atom|reader|news|podcast|thunderbird|miniflux|bot|crawl|spider|fetch|subscriber|http",
    re.IGNORECASE,
)


def is_browser(agent: str) -> bool:
    """Whether a request came from a web browser (a person looking at the feed), not from a feed reader.

    ``Mozilla/5.0 (…) … Chrome/… Safari/…`` and the like, without a reader's or a fetcher's word in it.
    """
    agent = agent[:MAX_AGENT]
    return agent.startswith("Mozilla/5.0 (") and _NOT_A_BROWSER.search(agent) is None


def reported(agent: str) -> tuple[str, int] | None:
    """(aggregator kind, subscribers) when an agent has a known fetcher's whole shape and a believable figure."""
    agent = agent[:MAX_AGENT]
    if "subscriber" not in agent:
        return None
    for kind, (_name, shape) in AGGREGATORS.items():
        match = shape.fullmatch(agent)
        if match is not None:
            count = int(match["n"].replace(",", ""))
            return (kind, count) if count <= MAX_SUBSCRIBERS else None
    return None


def display_name(kind: str) -> str:
    """How a kind of count is shown: the aggregator's name, or the kind itself."""
    known = AGGREGATORS.get(kind)
    return known[0] if known is not None else kind
