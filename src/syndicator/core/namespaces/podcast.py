"""The Podcasting 2.0 namespace (``podcast:``): a show's guid, lock and funding, an episode's transcript and chapters.

As the namespace's definition (podcast-namespace ``docs/1.0.md``) has them:
channel ``podcast:guid`` (the config's, or the UUIDv5 of the feed's URL),
``podcast:locked`` (``owner`` the owner's e-mail) and ``podcast:funding``;
item ``podcast:transcript``, ``podcast:chapters``, ``podcast:season`` and
``podcast:episode``. The namespace's XML Schema wants a season's ``name``:
one is always given (``Season <n>``). Only a podcast's RSS carries it. No I/O.
"""

from __future__ import annotations

from lxml import etree

from syndicator.config import Settings
from syndicator.core.episode import episode_audio
from syndicator.core.namespaces.parts import EntryPart
from syndicator.core.namespaces.parts import FeedPart
from syndicator.core.namespaces.parts import Namespace
from syndicator.core.plan import FeedSpec
from syndicator.core.podcasts import podcast_guid
from syndicator.core.urls import feed_url
from syndicator.model import Episode
from syndicator.model import Post
from syndicator.podcastconfig import Show

URI = "https://podcastindex.org/namespace/1.0"
FUNDING_TEXT = 128  # "Please do not exceed 128 characters" (funding.md): longer text is cut


class ShowTags(FeedPart):
    """A show's channel tags, after the channel's own elements."""

    def __init__(self) -> None:
        self.show: Show | None = None
        self.guid = ""

    def take(self, spec: FeedSpec, settings: Settings) -> None:
        if spec.show is not None and not spec.is_archive:
            self.show = spec.show
            self.guid = spec.show.guid or podcast_guid(feed_url(settings, spec.stem, "rss", spec.prefix))

    def extend_ns(self) -> dict[str, str]:
        return {NAMESPACE.prefix: URI} if self.show is not None else {}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        show = self.show
        if show is None:
            return rss
        channel = rss[0]
        etree.SubElement(channel, f"{{{URI}}}guid").text = self.guid
        locked = etree.SubElement(channel, f"{{{URI}}}locked")
        locked.text = "yes" if show.locked else "no"
        if show.owner_email:
            locked.set("owner", show.owner_email)
        for url, text in show.funding:
            etree.SubElement(channel, f"{{{URI}}}funding", url=url).text = text[:FUNDING_TEXT]
        return rss


class EpisodeTags(EntryPart):
    """An episode's item tags, after the item's own elements."""

    def __init__(self) -> None:
        self.episode = Episode()

    @staticmethod
    def wanted(post: Post) -> bool:
        return post.episode is not None and episode_audio(post) is not None

    def take(self, post: Post) -> None:
        self.episode = post.episode or Episode()

    def extend_rss(self, item: etree._Element) -> etree._Element:
        episode = self.episode
        if episode.transcript is not None:
            transcript = episode.transcript
            attributes = {"url": transcript.url, "type": transcript.media_type, "rel": "captions"}
            etree.SubElement(item, f"{{{URI}}}transcript", attributes)
        if episode.chapters is not None:
            chapters = episode.chapters
            etree.SubElement(item, f"{{{URI}}}chapters", url=chapters.url, type=chapters.media_type)
        if episode.season:
            season = etree.SubElement(item, f"{{{URI}}}season", name=f"Season {episode.season}")
            season.text = str(episode.season)
        if episode.number:
            etree.SubElement(item, f"{{{URI}}}episode").text = str(episode.number)
        return item


NAMESPACE = Namespace(
    "podcast", "podcast", URI, entries_in=("podcast",), feed=ShowTags, entry=EpisodeTags, atom=False, podcast=True
)
