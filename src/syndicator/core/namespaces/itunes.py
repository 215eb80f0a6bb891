"""Apple's podcast tags (``itunes:``): a show's channel and its episodes' items, written by feedgen's podcast extension.

feedgen's ``PodcastExtension`` and ``PodcastEntryExtension`` (what
``fg.load_extension('podcast')`` loads) write the elements; these parts tell
them what a show and an episode say, and mend the one value feedgen writes in
its older form: ``itunes:explicit`` is ``true`` or ``false`` (Apple's guide
today; the W3C Feed Validator refuses ``yes`` and ``no``). Only a podcast's
RSS carries them: its channel (the feed's ``show``) and its items (the
``podcast`` entry format). No I/O.
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.podcast import PodcastExtension
from feedgen.ext.podcast_entry import PodcastEntryExtension
from lxml import etree

from syndicator.config import Settings
from syndicator.core.episode import episode_audio
from syndicator.core.episode import episode_seconds
from syndicator.core.namespaces.parts import EntryPart
from syndicator.core.namespaces.parts import FeedPart
from syndicator.core.namespaces.parts import Namespace
from syndicator.core.plan import FeedSpec
from syndicator.core.podcasts import artwork_name_fault
from syndicator.core.podcasts import artwork_size_fault
from syndicator.core.podcasts import show_categories
from syndicator.core.podcasts import show_image_url
from syndicator.model import Post

URI = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def _mend_explicit(parent: etree._Element, explicit: bool | None) -> None:
    """``itunes:explicit`` as ``true``/``false`` where feedgen wrote ``yes``/``no``."""
    element = parent.find(f"{{{URI}}}explicit")
    if element is not None and explicit is not None:
        element.text = "true" if explicit else "false"


class ShowTags(FeedPart):
    """A show's channel tags: author, owner, artwork, categories, explicit, type."""

    def __init__(self) -> None:
        self.tags: Any = None  # feedgen's PodcastExtension, for a feed that is a show
        self.explicit = False

    def take(self, spec: FeedSpec, settings: Settings) -> None:
        show = spec.show
        if show is None or spec.is_archive:
            return
        tags = PodcastExtension()
        tags.itunes_author(show.author or settings.author_name)
        if show.owner_email:
            tags.itunes_owner(name=show.owner_name or show.author or settings.author_name, email=show.owner_email)
        image = show_image_url(settings, show)
        if image and artwork_name_fault(image) is None:
            tags.itunes_image(image)
        categories = [{"cat": cat, "sub": sub} if sub else {"cat": cat} for cat, sub in show_categories(show)]
        if categories:
            tags.itunes_category(categories)
        tags.itunes_explicit("yes" if show.explicit else "no")
        tags.itunes_type(show.type)
        self.tags, self.explicit = tags, show.explicit

    def extend_ns(self) -> dict[str, str]:
        return {NAMESPACE.prefix: URI} if self.tags is not None else {}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        if self.tags is not None:
            self.tags.extend_rss(rss)
            _mend_explicit(rss[0], self.explicit)
        return rss


class EpisodeTags(EntryPart):
    """An episode's item tags: duration, episode, season, episode type, explicit, and its artwork."""

    def __init__(self) -> None:
        self.tags: Any = PodcastEntryExtension()
        self.explicit: bool | None = None

    @staticmethod
    def wanted(post: Post) -> bool:
        return episode_audio(post) is not None

    def take(self, post: Post) -> None:
        tags, episode = self.tags, post.episode
        seconds = episode_seconds(post)
        if seconds:
            tags.itunes_duration(str(seconds))
        image = post.image  # as episode artwork only when it is what Apple takes (else the show's is shown)
        if (
            image is not None
            and artwork_name_fault(image.url) is None
            and not artwork_size_fault(image.width, image.height)
        ):
            tags.itunes_image(image.url)
        if episode is None:
            return
        if episode.number:
            tags.itunes_episode(episode.number)
        if episode.season:
            tags.itunes_season(episode.season)
        if episode.episode_type:
            tags.itunes_episode_type(episode.episode_type)
        if episode.explicit is not None:
            tags.itunes_explicit("yes" if episode.explicit else "no")
            self.explicit = episode.explicit

    def extend_rss(self, item: etree._Element) -> etree._Element:
        self.tags.extend_rss(item)
        _mend_explicit(item, self.explicit)
        return item


NAMESPACE = Namespace(
    "itunes", "itunes", URI, entries_in=("podcast",), feed=ShowTags, entry=EpisodeTags, atom=False, podcast=True
)
