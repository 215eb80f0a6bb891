"""Aggregators' reported subscribers, read from the User-Agents their fetchers really send (SPEC "Audience"); anything
else is a plain client."""

from __future__ import annotations

import pytest

from syndicator.core.agents import is_browser
from syndicator.core.agents import reported

FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; feed-id=feed/https://x/all.atom)"
INOREADER = "Mozilla/5.0 (compatible; inoreader.com; {n} subscribers)"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (FEEDLY.format(n=123), ("feedly", 123)),
        ("Feedly/1.0 (+https://feedly.com/fetcher.html; 1 subscriber)", ("feedly", 1)),
        (INOREADER.format(n=7), ("inoreader", 7)),
        (
            "NewsBlur Feed Fetcher - 5 subscribers - https://www.newsblur.com/site/123/x (Mozilla/5.0 (Macintosh))",
            ("newsblur", 5),
        ),
        ("NewsBlur Feed Fetcher - 1 subscriber - https://www.newsblur.com/site/9/y (Mozilla/5.0)", ("newsblur", 1)),
        ("Feedbin feed-id:1602368 - 4 subscribers", ("feedbin", 4)),
        (
            "Mozilla/5.0 (compatible; theoldreader.com; 2 subscribers; feed-id=0719795c4d27c784217b0bc0)",
            ("theoldreader", 2),
        ),
        ("Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 3 subscribers)", ("bazqux", 3)),
        ("Netvibes (crawler/bot; http://www.netvibes.com; 12 subscribers; feedID: 123)", ("netvibes", 12)),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 1,204 subscribers)", ("feedly", 1204)),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)", None),
        ("MadeUp/1.0 (999999 subscribers)", None),
        ("Feedly/1.0 (999,999,999 subscribers)", None),  # names Feedly, but not the shape its fetcher sends
        ("Feedly/1.0 (1 subscriber)", None),
        ("curl/8 Feedly/1.0 (+http://www.feedly.com/fetcher.html; 5 subscribers)", None),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 999,999,999 subscribers)", None),  # past the cap
        ("Mozilla/5.0 (compatible; inoreader.com; 7 subscribers) evil", None),
        ("Feedbin - 4 subscribers", None),
        ("Miniflux/2.1.0 (+https://miniflux.app)", None),
        ("", None),
    ],
)
def test_aggregators_are_read_from_their_real_user_agents(agent: str, expected: tuple[str, int] | None) -> None:
    """The formats Feedly, Inoreader, NewsBlur, Feedbin, The Old Reader, BazQux and Netvibes send; others: clients."""
    assert reported(agent) == expected


def test_browsers_are_counted_apart_from_readers() -> None:
    """A browser (Mozilla/5.0 without a reader's word) is a person looking, not a reader; readers' agents are not."""
    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    assert is_browser(chrome)
    assert is_browser("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5")
    for reader in (
        "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.0",
        "Mozilla/5.0 (compatible; Miniflux/2.1.3; +https://miniflux.app)",
        "Mozilla/5.0 (compatible; inoreader.com; 7 subscribers)",
        "NetNewsWire (RSS Reader; https://netnewswire.com/)",
        "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) FeedFetcher",
        "curl/8.5.0",
    ):
        assert not is_browser(reader), reader
