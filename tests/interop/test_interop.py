"""What real feed consumers show of our feeds is what the post files say (SPEC "Feeds": what real readers show).

The corpus in corpus/ is built with ``syndicator build``; every consumer of
consumers.py reads its documents, and each field it shows is judged against
the post files (truth.py). A consumer that is not installed is skipped, or
fails the run when INTEROP_REQUIRE_ALL=1 (as .ci/run sets it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from consumers import CONSUMERS
from consumers import Consumer
from consumers import missing
from truth import build
from truth import show
from truth import verdicts

from support.feedcheck import check_file

REQUIRE_ALL = os.environ.get("INTEROP_REQUIRE_ALL") == "1"

# What a consumer shows wrong whatever a feed does (each is the same XML or JSON either way), with why.
# Each is asserted to stay wrong: when a consumer is fixed, its line here must go.
_STRIPS_TITLES = "reads a text title as HTML: strips '<script>…' and '<Test>', writes '&' as '&amp;'"
KNOWN: dict[tuple[str, str, str], str] = {
    **{("feedparser-rs", fmt, "feed title"): _STRIPS_TITLES for fmt in ("atom", "rss", "json")},
    **{("feedparser-rs", fmt, "title"): _STRIPS_TITLES for fmt in ("atom", "rss", "json")},
    ("feedparser-rs", "json", "summary"): "reads JSON Feed's plain-text summary as HTML ('&amp;' shows as '&')",
    ("feedparser-rs", "atom", "categories"): "shows a category label's '&' as '&amp;'",
    ("node-feedparser", "atom", "title"): "strips anything like a tag from titles ('Why  breaks AT&T's pages')",
    ("node-feedparser", "rss", "title"): "strips anything like a tag from titles ('Why  breaks AT&T's pages')",
    ("rss2email", "rss", "title"): "decodes an RSS title's entities again: 'Tom &amp; Jerry' shows as 'Tom & Jerry'",
    ("feed-extractor", "atom", "published"): "dates an Atom entry by its updated, before its published",
    (
        "atoma",
        "rss",
        "author",
    ): "reads RSS <author> (an e-mail address) but not dc:creator, which the SPEC has us write",
}


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("interop"))


@pytest.fixture(scope="module")
def judged(feeds: Path) -> Callable[[Consumer], dict[tuple[str, str], str]]:
    """Each consumer's verdicts, (format, field) -> '' or what it shows wrong; each consumer runs once."""
    cache: dict[str, dict[tuple[str, str], str]] = {}

    def get(consumer: Consumer) -> dict[tuple[str, str], str]:
        if consumer.name not in cache:
            cache[consumer.name] = verdicts(consumer, show(consumer, feeds, feeds.parent), feeds)
        return cache[consumer.name]

    return get


def test_every_feed_of_the_corpus_validates(feeds: Path) -> None:
    """The corpus's feeds parse in feedparser with bozo == 0 and pass the RFC 4287 / RSS / JSON Feed checks."""
    files = sorted(p for p in feeds.rglob("*") if p.suffix in (".atom", ".rss", ".json"))
    assert len(files) > 20
    for path in files:
        check_file(path.name, path.read_bytes())


CASES = [(c, fmt) for c in CONSUMERS for fmt in c.formats]


@pytest.mark.parametrize(("consumer", "fmt"), CASES, ids=[f"{c.name}-{fmt}" for c, fmt in CASES])
def test_consumer_shows_what_the_posts_say(
    consumer: Consumer, fmt: str, judged: Callable[[Consumer], dict[tuple[str, str], str]]
) -> None:
    """Titles, links, ids, dates, summaries, content, categories, authors, footnotes and archive links show right."""
    why = missing(consumer)
    if why:
        if REQUIRE_ALL:
            pytest.fail(f"{consumer.name} must run here: {why}")
        pytest.skip(why)
    found = {field: verdict for (f, field), verdict in judged(consumer).items() if f == fmt}
    assert found, f"{consumer.name} showed nothing of the {fmt} documents"
    wrong = {field: v for field, v in found.items() if v and (consumer.name, fmt, field) not in KNOWN}
    fixed = [field for field, v in found.items() if not v and (consumer.name, fmt, field) in KNOWN]
    assert not wrong, f"{consumer.name} shows {fmt} wrong: {wrong}"
    assert not fixed, f"{consumer.name} now shows {fixed} of {fmt} right: take them out of KNOWN"
