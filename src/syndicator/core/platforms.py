"""What major partner platforms document that they need from a feed, as data, each rule with its public page.

``check(platform, site)`` lists every feed or post that falls short. No rule
without a source: each one cites the page that states it (as read in 2026).
Pure: the facts of the published site are an argument. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.markup import plain_text
from syndicator.core.plan import feed_specs
from syndicator.core.render import entry
from syndicator.core.render import rss_parts
from syndicator.core.summary import summary_text
from syndicator.model import Post

FLIPBOARD = "https://about.flipboard.com/rss-spec/"
FLIPBOARD_HELP = "https://flipboard.helpshift.com/hc/en/1-flipboard/faq/1023-resubmit-an-rss-feed/"
GOOGLE_NEWS = "https://support.google.com/news/publisher-center/answer/9545420"
GOOGLE_NEWS_GUIDE = "https://support.google.com/news/producer/answer/4304250"
MSN = "https://helpcenter.microsoftstart.com/kb/feed-specifications"
MSN_SETUP = "https://support.microsoft.com/topic/msn-feed-setup-and-configuration-16ea6c2b-d51c-48a5-9ba4-4c3f8ed76c97"
SMARTNEWS = "https://publishers.smartnews.com/hc/en-us/articles/360036526213-SmartFormat-Specification-Version-2-1"


@dataclass(frozen=True, slots=True)
class Article:
    """What a platform reads of one published post."""

    path: str  # the post file, for the report
    title: str
    summary_html: str
    content_html: str
    body_bytes: int  # the size of its entry in the feed
    image: tuple[int, int] | None  # the featured image's (width, height) when known; (0, 0): an image of unknown size


@dataclass(frozen=True, slots=True)
class Site:
    """What a platform reads of the published site: its main feed and the posts in it."""

    site_url: str
    description: str
    language: str
    full_content: bool
    feed_bytes: int
    logo: bool
    articles: tuple[Article, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """One documented requirement: what it asks, how strongly, where it says so, and the test of it."""

    platform: str
    says: str
    source: str
    required: bool
    feed_test: Callable[[Site], bool] | None = None
    article_test: Callable[[Article], bool] | None = None


def image_of(post: Post) -> tuple[int, int] | None:
    """(width, height) of a post's featured image (its own, or its body's first) as the build measured the file;
    (0, 0) for an image elsewhere on the web, whose size is unknown; None: no image. Never an ``<img>``'s
    attributes (Markdown images have none, and they say how it is shown, not how large it is)."""
    if post.image is None:
        return None
    return post.image.width, post.image.height


def _smallest_side(minimum: int) -> Callable[[Article], bool]:
    return lambda a: a.image is not None and min(a.image) >= minimum


def _largest_side(minimum: int) -> Callable[[Article], bool]:
    return lambda a: a.image is not None and max(a.image) >= minimum


RULES: tuple[Rule, ...] = (
    Rule("flipboard", "the entire body of each article, not only a summary", FLIPBOARD, True, lambda s: s.full_content),
    Rule("flipboard", "at least 30 items in the feed", FLIPBOARD, True, lambda s: len(s.articles) >= 30),
    Rule(
        "flipboard",
        "an image per article, 400 px or more on its smallest side",
        FLIPBOARD,
        True,
        None,
        _smallest_side(400),
    ),
    Rule("flipboard", "a language for the feed", FLIPBOARD_HELP, True, lambda s: bool(s.language)),
    Rule(
        "flipboard",
        "an excerpt of 300 characters or more",
        FLIPBOARD_HELP,
        False,
        None,
        lambda a: len(summary_text(a.summary_html)) >= 300,
    ),
    Rule("google-news", "full-length articles", GOOGLE_NEWS_GUIDE, True, lambda s: s.full_content),
    Rule(
        "google-news",
        "images 800 px or more on their shortest side",
        GOOGLE_NEWS_GUIDE,
        False,
        None,
        _smallest_side(800),
    ),
    Rule("google-news", "a feed of 2 MB at most", GOOGLE_NEWS, True, lambda s: s.feed_bytes <= 2 * 1024 * 1024),
    Rule("google-news", "an article of 1 MB at most", GOOGLE_NEWS, True, None, lambda a: a.body_bytes <= 1024 * 1024),
    Rule("msn", "an HTTPS feed URL", MSN, True, lambda s: urlsplit(s.site_url).scheme == "https"),
    Rule("msn", "a body for every article", MSN, True, None, lambda a: bool(plain_text(a.content_html))),
    Rule(
        "msn",
        "an image per article (only those are published automatically)",
        MSN,
        False,
        None,
        lambda a: a.image is not None,
    ),
    Rule("msn", "images 720 px or more in height or width", MSN, False, None, _largest_side(720)),
    Rule("msn", "a feed of 10 MB at most", MSN_SETUP, True, lambda s: s.feed_bytes <= 10 * 1024 * 1024),
    Rule("msn", "fewer than 30 fresh items", MSN_SETUP, False, lambda s: len(s.articles) < 30),
    Rule(
        "smartnews",
        "a channel description of 30 characters or less",
        SMARTNEWS,
        False,
        lambda s: len(s.description) <= 30,
    ),
    Rule("smartnews", "a language for the feed", SMARTNEWS, True, lambda s: bool(s.language)),
    Rule("smartnews", "a logo image", SMARTNEWS, False, lambda s: s.logo),
)
PLATFORMS = tuple(dict.fromkeys(rule.platform for rule in RULES))


class Requirement(Protocol):
    """What a shortfall tells of the rule it misses (a Rule here, or a podcast's: core.podcastplatforms)."""

    @property
    def platform(self) -> str: ...

    @property
    def says(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def required(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A rule a feed or a post does not meet."""

    rule: Requirement
    path: str  # the post file (a podcast's ``podcasts.<slug>``), or "" for the feed

    def __str__(self) -> str:
        level = "required" if self.rule.required else "recommended"
        where = f"{self.path}: " if self.path else "feed: "
        return f"{where}{self.rule.platform} {level}: {self.rule.says} ({self.rule.source})"


def check(platform: str, site: Site) -> list[Shortfall]:
    """Every rule of a platform that the site's feed, or one of its posts, does not meet."""
    found: list[Shortfall] = []
    for rule in RULES:
        if rule.platform != platform:
            continue
        if rule.feed_test is not None and not rule.feed_test(site):
            found.append(Shortfall(rule, ""))
        if rule.article_test is not None:
            found += [Shortfall(rule, a.path) for a in site.articles if not rule.article_test(a)]
    return found


def site_facts(catalog: Catalog, settings: Settings) -> Site:
    """What a platform reads of the site: its site-wide RSS feed (the one partners are given) and its posts."""
    spec = feed_specs(catalog, settings)[0]
    items = [entry("rss", post, catalog.labels(post), settings) for post in spec.posts]
    feed = b"".join(rss_parts(spec, items, settings))
    articles = tuple(
        Article(post.path, post.title, post.summary_html, post.content_html, len(item), image_of(post))
        for post, item in zip(spec.posts, items, strict=True)
    )
    logo = bool(getattr(settings, "site_logo", ""))
    return Site(
        settings.site_url, spec.description, settings.language, settings.full_content, len(feed), logo, articles
    )
