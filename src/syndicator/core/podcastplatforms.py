"""What Apple Podcasts and Spotify document that they need from a podcast feed, as data, each rule with its page.

``check(platform, shows)`` lists every show or episode that falls short, in
the shape of ``core.platforms`` (whose Shortfall it gives). No rule without a
source: each one cites the page that states it (as read in 2026). Apple no
longer asks for an owner's e-mail (its 2022 technical updates); Spotify
sends the code that proves a show is yours to it. Pure: the facts of the
published shows are an argument. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.episode import episode_audio
from syndicator.core.plan import group_of
from syndicator.core.platforms import Shortfall
from syndicator.core.podcasts import APPLE_ARTWORK_PAGE
from syndicator.core.podcasts import APPLE_CATEGORIES_PAGE
from syndicator.core.podcasts import Facts
from syndicator.core.podcasts import artwork_name_fault
from syndicator.core.podcasts import artwork_path
from syndicator.core.podcasts import artwork_size_fault
from syndicator.core.podcasts import show_categories
from syndicator.core.podcasts import show_image_url
from syndicator.core.urls import SITE_FEED
from syndicator.core.urls import feed_stem
from syndicator.model import EPISODE_TYPES
from syndicator.model import Post
from syndicator.podcastconfig import SITE_SHOW

APPLE = "apple-podcasts"
SPOTIFY = "spotify"
APPLE_GUIDE = "https://help.apple.com/itc/podcasts_connect/#/itcb54353390"  # "A Podcaster's Guide to RSS"
APPLE_REQUIREMENTS = "https://podcasters.apple.com/support/823-podcast-requirements"
APPLE_UPDATES = "https://podcasters.apple.com/4115-technical-updates-for-hosting-providers"
SPOTIFY_SPEC = "https://support.spotify.com/us/podcasters/article/podcast-specification-doc/"
SPOTIFY_EMAIL = "https://support.spotify.com/us/creators/article/adding-your-email-address-to-your-rss-feed/"
SPOTIFY_ART = "https://help.spotifyforpodcasters.com/hc/en-us/articles/13183700772763-Creating-your-podcast-cover-art"
# What Apple takes as an episode's audio (APPLE_GUIDE, <enclosure>: M4A and MP3; the rest of its list is video, PDF).
APPLE_AUDIO = ("audio/mpeg", "audio/mp4", "audio/x-m4a")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")  # ISO 639 codes, "with some possible modifiers"


@dataclass(frozen=True, slots=True)
class EpisodeFacts:
    """What a platform reads of one post of a show."""

    path: str  # the post file, for the report
    guid: str
    audio_type: str  # its audio's media type ("" for a post without audio)
    number: int
    episode_type: str
    image: tuple[str, int, int] | None  # its artwork's URL and pixels (0: unknown)


@dataclass(frozen=True, slots=True)
class ShowFacts:
    """What a platform reads of one show's feed."""

    key: str  # podcasts.<slug>
    title: str
    description: str
    language: str
    artwork: str  # its URL
    artwork_size: tuple[int, int]  # (0, 0): unknown (a URL elsewhere)
    categories: int  # how many Apple knows
    owner_email: str
    serial: bool
    episodes: tuple[EpisodeFacts, ...]


@dataclass(frozen=True, slots=True)
class PodcastRule:
    """One documented requirement of a podcast platform: what it asks, how strongly, where, and the test of it."""

    platform: str
    says: str
    source: str
    required: bool
    show_test: Callable[[ShowFacts], bool] | None = None
    episode_test: Callable[[EpisodeFacts], bool] | None = None


def _artwork_named(show: ShowFacts) -> bool:
    return bool(show.artwork) and artwork_name_fault(show.artwork) is None


def _artwork_sized(show: ShowFacts) -> bool:
    return artwork_size_fault(*show.artwork_size) is None


def _square(show: ShowFacts) -> bool:
    width, height = show.artwork_size
    return width == height


def _described(show: ShowFacts) -> bool:
    return bool(show.title and show.description and _LANGUAGE.fullmatch(show.language))


def _unique_guids(show: ShowFacts) -> bool:
    guids = [e.guid for e in show.episodes if e.audio_type]
    return len(set(guids)) == len(guids)


def _numbered(show: ShowFacts) -> bool:
    return not show.serial or all(e.number for e in show.episodes if e.audio_type)


def _episode_artwork(episode: EpisodeFacts) -> bool:
    if episode.image is None:
        return True
    url, width, height = episode.image
    return artwork_name_fault(url) is None and artwork_size_fault(width, height) is None


RULES: tuple[PodcastRule, ...] = (
    PodcastRule(APPLE, "show artwork (itunes:image)", APPLE_GUIDE, True, lambda s: bool(s.artwork)),
    PodcastRule(APPLE, "artwork in JPEG or PNG, named .jpg or .png", APPLE_ARTWORK_PAGE, True, _artwork_named),
    PodcastRule(APPLE, "square artwork of 1400 to 3000 pixels a side", APPLE_ARTWORK_PAGE, True, _artwork_sized),
    PodcastRule(
        APPLE, "a category from Apple's list (itunes:category)", APPLE_CATEGORIES_PAGE, True, lambda s: s.categories > 0
    ),
    PodcastRule(APPLE, "a title, a description and an ISO 639 language", APPLE_GUIDE, True, _described),
    PodcastRule(
        APPLE, "at least one episode", APPLE_REQUIREMENTS, True, lambda s: any(e.audio_type for e in s.episodes)
    ),
    PodcastRule(APPLE, "a unique guid for every episode", APPLE_UPDATES, True, _unique_guids),
    PodcastRule(APPLE, "an episode number for every episode of a serial show", APPLE_GUIDE, True, _numbered),
    PodcastRule(
        APPLE, "an audio file for every episode (enclosure)", APPLE_GUIDE, True, None, lambda e: bool(e.audio_type)
    ),
    PodcastRule(
        APPLE,
        "episode audio in MP3 or M4A",
        APPLE_GUIDE,
        True,
        None,
        lambda e: not e.audio_type or e.audio_type in APPLE_AUDIO,
    ),
    PodcastRule(
        APPLE,
        "episode types full, trailer or bonus (itunes:episodeType)",
        APPLE_GUIDE,
        True,
        None,
        lambda e: not e.episode_type or e.episode_type in EPISODE_TYPES,
    ),
    PodcastRule(
        APPLE,
        "episode artwork, when given, as the show's (else the show's is shown)",
        APPLE_GUIDE,
        False,
        None,
        _episode_artwork,
    ),
    PodcastRule(
        SPOTIFY,
        "an owner e-mail (itunes:email) to send the verification code to",
        SPOTIFY_EMAIL,
        True,
        lambda s: bool(s.owner_email),
    ),
    PodcastRule(SPOTIFY, "cover art (itunes:image) in JPEG or PNG", SPOTIFY_ART, True, _artwork_named),
    PodcastRule(SPOTIFY, "square cover art (3000 x 3000 pixels recommended)", SPOTIFY_ART, False, _square),
    PodcastRule(SPOTIFY, "a title, a description and a language", SPOTIFY_SPEC, True, _described),
    PodcastRule(SPOTIFY, "an audio file for every episode", SPOTIFY_SPEC, True, None, lambda e: bool(e.audio_type)),
)
PODCAST_PLATFORMS = tuple(dict.fromkeys(rule.platform for rule in RULES))
NO_SHOW = "a podcast: a [podcasts.<category slug>] or [podcasts.all] table in the config"


def check(platform: str, shows: list[ShowFacts]) -> list[Shortfall]:
    """Every rule of a platform that a show's feed, or one of its episodes, does not meet."""
    if not shows:
        return [Shortfall(PodcastRule(platform, NO_SHOW, APPLE_GUIDE if platform == APPLE else SPOTIFY_SPEC, True), "")]
    found: list[Shortfall] = []
    for rule in RULES:
        if rule.platform != platform:
            continue
        for show in shows:
            if rule.show_test is not None and not rule.show_test(show):
                found.append(Shortfall(rule, show.key))
            if rule.episode_test is not None:
                found += [Shortfall(rule, e.path) for e in show.episodes if not rule.episode_test(e)]
    return list(dict.fromkeys(found))  # an episode of two shows falls short once


def _episode(post: Post) -> EpisodeFacts:
    audio = episode_audio(post)
    episode = post.episode
    image = (post.image.url, post.image.width, post.image.height) if post.image is not None else None
    return EpisodeFacts(
        post.path,
        post.id,
        audio.media_type if audio is not None else "",
        episode.number if episode is not None else 0,
        episode.episode_type if episode is not None else "",
        image,
    )


def show_facts(catalog: Catalog, settings: Settings, facts: Facts) -> list[ShowFacts]:
    """What a platform reads of each show of the config (its feed's posts as the catalog publishes them)."""
    found = []
    for show in settings.podcasts.shows:
        group = group_of(catalog, settings, SITE_FEED if show.slug == SITE_SHOW else feed_stem("category", show.slug))
        posts = group.posts if group is not None else ()
        local = artwork_path(show)
        artwork = facts(local) if local else None
        found.append(
            ShowFacts(
                show.key,
                show.title or (group.title if group is not None else ""),
                group.description if group is not None else "",
                show.language or settings.language,
                "" if local and artwork is None else show_image_url(settings, show),  # a missing file is none
                (artwork.width, artwork.height) if artwork is not None else (0, 0),
                len(show_categories(show)),
                show.owner_email,
                show.type == "serial",
                tuple(_episode(post) for post in posts),
            )
        )
    return found
