"""Podcasts: which feed is a show, its lasting guid, Apple's categories, what artwork must be, and the warnings.

A category's feed (or the site-wide one) is a show when the config has a
``[podcasts.<slug>]`` (``[podcasts.all]``) table. What Apple documents is
data here, with the page that says it. Pure: the files' facts are an
argument. No I/O.
"""

from __future__ import annotations

import posixpath
import re
import uuid
from collections.abc import Callable
from collections.abc import Collection

from syndicator.config import Settings
from syndicator.core.assets import asset_url
from syndicator.core.assets import local_path
from syndicator.core.mailaddress import normal_address
from syndicator.core.markup import url_scheme
from syndicator.core.urls import SITE_FEED
from syndicator.core.urls import split_stem
from syndicator.model import AssetFacts
from syndicator.podcastconfig import SITE_SHOW
from syndicator.podcastconfig import Show
from syndicator.problem import LoadProblem

# Podcasting 2.0, podcast:guid (docs/tags/guid.md): a UUIDv5 in this namespace over the feed URL without its
# scheme and trailing slashes.
GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
APPLE_CATEGORIES_PAGE = "https://podcasters.apple.com/support/1691-apple-podcasts-categories"
APPLE_ARTWORK_PAGE = "https://podcasters.apple.com/support/896-artwork-requirements"
# Apple Podcasts' categories and their subcategories, as its categories page lists them (read in 2026).
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        *("Animation & Manga", "Automotive", "Aviation", "Crafts"),
        *("Games", "Hobbies", "Home & Garden", "Video Games"),
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        *("Business News", "Daily News", "Entertainment News", "News Commentary"),
        *("Politics", "Sports News", "Tech News"),
    ),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"),
    "Science": (
        *("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics"),
        *("Natural Sciences", "Nature", "Physics", "Social Sciences"),
    ),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": (
        *("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby"),
        *("Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}
# Apple's artwork: "a minimum size of 1400 x 1400 pixels and a maximum size of 3000 x 3000 pixels, in JPEG or PNG
# format ... with appropriate file extensions (.jpg, .png)" (APPLE_ARTWORK_PAGE); square, as every app shows it.
ARTWORK_PIXELS = (1400, 3000)
ARTWORK_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
Facts = Callable[[str], AssetFacts | None]  # path under posts_dir -> what the disk says


def show_of(settings: Settings, stem: str) -> Show | None:
    """The show a public feed is (``all``: ``[podcasts.all]``; ``category/<slug>``: that category's), or None."""
    if stem == SITE_FEED:
        return settings.podcasts.get(SITE_SHOW)
    kind, slug = split_stem(stem)
    return settings.podcasts.get(slug) if kind == "category" and slug != SITE_SHOW else None


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 ``podcast:guid`` of a feed URL: UUIDv5 of it without its scheme and trailing slashes."""
    return str(uuid.uuid5(GUID_NAMESPACE, _SCHEME.sub("", feed_url.strip()).rstrip("/")))


def show_categories(show: Show) -> list[tuple[str, str]]:
    """The show's categories Apple knows (a subcategory only under its own category), in the config's order."""
    return [(cat, sub) for cat, sub in show.categories if _category_fault(cat, sub) is None]


def _category_fault(category: str, sub: str) -> str | None:
    if category not in APPLE_CATEGORIES:
        return f"{category!r} is not an Apple Podcasts category"
    if sub and sub not in APPLE_CATEGORIES[category]:
        return f"{sub!r} is not a subcategory of {category!r} in Apple Podcasts"
    return None


def artwork_name_fault(url: str) -> str | None:
    """What is wrong with artwork by its name: Apple takes a JPEG or PNG named .jpg or .png (None: nothing)."""
    name = posixpath.basename(url.split("?", 1)[0].split("#", 1)[0])
    if posixpath.splitext(name)[1] not in ARTWORK_TYPES:
        return f"{name or url!r} is not a JPEG or PNG named .jpg or .png"
    return None


def artwork_size_fault(width: int, height: int) -> str | None:
    """What is wrong with artwork of these pixels: square, 1400 to 3000 pixels a side (None: nothing, or unknown)."""
    low, high = ARTWORK_PIXELS
    if not width or not height or (width == height and low <= width <= high):
        return None
    return f"is {width}x{height} pixels; artwork is square, {low} to {high} pixels a side"


def artwork_path(show: Show) -> str:
    """The show's artwork as a path under posts_dir ("" when it is a URL, or none)."""
    if not show.image or url_scheme(show.image) in ("http", "https"):
        return ""
    return local_path(show.image, "") or ""


def show_problems(settings: Settings, facts: Facts) -> list[LoadProblem]:
    """A warning for each category Apple does not know and each artwork of the wrong format, size or shape."""
    problems = []
    for show in settings.podcasts.shows:
        where = show.source or "config"

        def warn(key: str, message: str, show: Show = show, where: str = where) -> None:
            problems.append(LoadProblem(where, show.line_of(key), f"{show.key}.{key}: {message}", fatal=False))

        if show.owner_email and normal_address(show.owner_email) is None:
            warn("owner_email", f"{show.owner_email!r} is not an email address (the platforms write to it)")
        for category, sub in show.categories:
            fault = _category_fault(category, sub)
            if fault is not None:
                warn("categories", f"{fault} ({APPLE_CATEGORIES_PAGE}); left out")
        named = artwork_name_fault(show.image) if show.image else None
        if named is not None:
            warn("image", f"{named} ({APPLE_ARTWORK_PAGE}); left out of itunes:image")
        found = facts(local) if (local := artwork_path(show)) else None
        if found is not None and not found.width and named is None:
            warn("image", f"{show.image} cannot be read as a JPEG or PNG image ({APPLE_ARTWORK_PAGE})")
        elif found is not None and (fault := artwork_size_fault(found.width, found.height)) is not None:
            warn("image", f"{show.image} {fault} ({APPLE_ARTWORK_PAGE})")
    return problems


def shows_of_no_category(settings: Settings, categories: Collection[str]) -> list[LoadProblem]:
    """A warning for each show whose slug is no category's (a typo, or no post in it yet): no feed is that podcast."""
    return [
        LoadProblem(
            show.source or "config",
            show.line_of(""),
            f"{show.key}: no category has the slug {show.slug!r}, so no feed is this podcast (a typo?)",
            fatal=False,
        )
        for show in settings.podcasts.shows
        if show.slug != SITE_SHOW and show.slug not in categories
    ]


def show_image_url(settings: Settings, show: Show) -> str:
    """The absolute URL of the show's artwork ("" for none)."""
    if not show.image or url_scheme(show.image) in ("http", "https"):
        return show.image
    path = artwork_path(show)
    return asset_url(settings, path) if path else ""
