"""Every feed as a fediverse account: handles, actor documents, WebFinger (RFC 7033) and NodeInfo 2.1.

The site is ``@<fediverse_site_handle>``, a category ``@<slug>``, a tag
``@tag.<slug>``, an author ``@author.<slug>`` (at the host of site_url). Each
is the ActivityPub actor of one public feed group (``core.plan``): its name
and summary are the feed's title and description, its ``url`` the group's
page. A category whose slug is the site's handle has no account of its own.
Pure: takes the catalog, the settings and ``now``. No I/O.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

from syndicator import __version__
from syndicator.config import Settings
from syndicator.core.assets import site_image_urls
from syndicator.core.catalog import Catalog
from syndicator.core.plan import FeedGroup
from syndicator.core.plan import feed_groups
from syndicator.core.plan import group_of
from syndicator.core.plan import stems_of
from syndicator.core.urls import SITE_FEED
from syndicator.core.urls import feed_stem
from syndicator.core.urls import feed_url
from syndicator.core.urls import split_stem
from syndicator.model import Post

AP_ROOT = "/ap"  # every ActivityPub address is under it
ACTORS = f"{AP_ROOT}/actors/"  # /ap/actors/<handle>, and its inbox, outbox, followers, following, posts/<key>
OBJECTS = "/posts/"  # an actor's objects: /ap/actors/<handle>/posts/<key>
SHARED_INBOX = f"{AP_ROOT}/inbox"
ACTIVITY_JSON = "application/activity+json"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = f"{AS_CONTEXT}#Public"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
PREFIXES = {"tag": "tag.", "author": "author."}  # a category's handle is its slug
AVATAR = "avatar.png"  # the package's own (static/), when the site has no raster icon
_RASTER = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
_EXTRA_CONTEXT = {
    "toot": "http://joinmastodon.org/ns#",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "PropertyValue": "schema:PropertyValue",
    "schema": "http://schema.org#",
    "value": "schema:value",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """One account: its handle and the feed group it publishes."""

    handle: str
    group: FeedGroup

    @property
    def kind(self) -> str:
        """ "site", "category", "tag" or "author"."""
        return "site" if self.group.stem == SITE_FEED else split_stem(self.group.stem)[0]


def account_host(settings: Settings) -> str:
    """The host part of every handle: site_url's host, with its port when it is not the scheme's default."""
    parts = urlsplit(settings.site_url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def handle_of(settings: Settings, stem: str) -> str:
    """The handle of a feed stem: ``all`` -> the site's, ``category/x`` -> ``x``, ``tag/x`` -> ``tag.x``."""
    if stem == SITE_FEED:
        return settings.fediverse_site_handle
    kind, slug = split_stem(stem)
    return PREFIXES.get(kind, "") + slug


def stem_of(settings: Settings, handle: str) -> str | None:
    """The feed stem a handle names (the inverse of ``handle_of``); None for one that cannot be ours."""
    if handle == settings.fediverse_site_handle:
        return SITE_FEED
    for kind, prefix in PREFIXES.items():
        if handle.startswith(prefix):
            slug = handle.removeprefix(prefix)
            return feed_stem(kind, slug) if slug and "." not in slug else None
    return feed_stem("category", handle) if handle and "." not in handle and "/" not in handle else None


def display_handle(settings: Settings, stem: str) -> str:
    """What a reader types into Mastodon's search: ``@tajik-russian-relations@blog.example.org``."""
    return f"@{handle_of(settings, stem)}@{account_host(settings)}"


def actor_url(settings: Settings, handle: str) -> str:
    """An actor's id: ``<site_url>/ap/actors/<handle>``."""
    return f"{settings.base_url}{ACTORS}{handle}"


def key_id(settings: Settings, handle: str) -> str:
    return f"{actor_url(settings, handle)}#main-key"


def followers_url(settings: Settings, handle: str) -> str:
    return f"{actor_url(settings, handle)}/followers"


def find_actor(catalog: Catalog, settings: Settings, handle: str) -> Actor | None:
    """The account a handle names while its feed exists, or None."""
    stem = stem_of(settings, handle)
    if stem is None or (stem != SITE_FEED and handle_of(settings, stem) != handle):
        return None
    group = group_of(catalog, settings, stem)
    return Actor(handle, group) if group is not None else None


def actors(catalog: Catalog, settings: Settings) -> Iterator[Actor]:
    """Every account of the catalog: the site's, then each category's, tag's and author's."""
    site = settings.fediverse_site_handle
    for group in feed_groups(catalog, settings):
        handle = handle_of(settings, group.stem)
        if group.stem == SITE_FEED or handle != site:
            yield Actor(handle, group)


def handles_of(post: Post, settings: Settings) -> tuple[str, ...]:
    """The accounts that publish a post: the site's, its categories', tags' and author's (sorted, once each)."""
    handles = {handle_of(settings, stem) for stem in stems_of(post)}
    return tuple(sorted(handles))  # a category named as the site's handle is the site's account


def icon(settings: Settings) -> dict[str, str]:
    """The accounts' avatar: site_icon or site_logo when Mastodon can show it (not SVG), else the package's."""
    for url in site_image_urls(settings).values():
        extension = "." + urlsplit(url).path.rpartition(".")[2].lower()
        if extension in _RASTER:
            return {"type": "Image", "mediaType": _RASTER[extension], "url": url}
    return {"type": "Image", "mediaType": "image/png", "url": f"{settings.base_url}/static/{AVATAR}"}


def actor_document(actor: Actor, settings: Settings, public_key_pem: str) -> dict[str, Any]:
    """The actor as ``application/activity+json``: who it is, where to follow it, its key."""
    url = actor_url(settings, actor.handle)
    group = actor.group
    feed = feed_url(settings, group.stem, "atom")
    link = f'<a href="{html.escape(group.page_url)}">{html.escape(group.page_url)}</a>'
    return {
        "@context": [AS_CONTEXT, SECURITY_CONTEXT, _EXTRA_CONTEXT],
        "id": url,
        "type": "Person" if actor.kind == "author" else "Service",
        "preferredUsername": actor.handle,
        "name": group.title,
        "summary": f"<p>{html.escape(group.description)}: {link}</p>",
        "url": group.page_url,
        "icon": icon(settings),
        "inbox": f"{url}/inbox",
        "outbox": f"{url}/outbox",
        "followers": followers_url(settings, actor.handle),
        "following": f"{url}/following",
        "endpoints": {"sharedInbox": f"{settings.base_url}{SHARED_INBOX}"},
        "publicKey": {"id": key_id(settings, actor.handle), "owner": url, "publicKeyPem": public_key_pem},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "attachment": [
            {"type": "PropertyValue", "name": "Atom feed", "value": f'<a href="{html.escape(feed)}">{feed}</a>'}
        ],
    }


def resource_handle(settings: Settings, resource: str) -> str | None:
    """The handle a WebFinger resource names (``acct:x@host``, with or without the port, or an actor's id)."""
    actors_root = f"{settings.base_url}{ACTORS}"
    if resource.startswith(actors_root):
        return resource.removeprefix(actors_root) or None
    if not resource.lower().startswith("acct:"):
        return None
    user, at, host = unquote(resource[5:]).removeprefix("@").rpartition("@")
    hosts = {account_host(settings), (urlsplit(settings.site_url).hostname or "").lower()}
    return user if at and user and host.lower() in hosts else None


def webfinger(catalog: Catalog, settings: Settings, resource: str) -> dict[str, Any] | None:
    """The JRD of an account (RFC 7033), or None when the resource names none of ours."""
    handle = resource_handle(settings, resource)
    actor = find_actor(catalog, settings, handle) if handle is not None else None
    if actor is None:
        return None
    url = actor_url(settings, actor.handle)
    subject = resource if resource.lower().startswith("acct:") else f"acct:{actor.handle}@{account_host(settings)}"
    return {
        "subject": subject,
        "aliases": [url, actor.group.page_url],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": url},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.group.page_url},
        ],
    }


def host_meta(settings: Settings) -> str:
    """``/.well-known/host-meta`` (RFC 6415): where WebFinger is, for servers that ask there first."""
    template = html.escape(f"{settings.base_url}/.well-known/webfinger?resource={{uri}}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template="{template}"/>\n</XRD>\n'
    )


def nodeinfo_links(settings: Settings) -> dict[str, Any]:
    """``/.well-known/nodeinfo``: where the NodeInfo document is."""
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": f"{settings.base_url}/nodeinfo/2.1"}]}


def nodeinfo(catalog: Catalog, settings: Settings, now: datetime) -> dict[str, Any]:
    """``/nodeinfo/2.1``: what software this is, that it speaks ActivityPub, how many accounts and posts."""
    accounts = [actor.group.posts[0].date if actor.group.posts else None for actor in actors(catalog, settings)]
    month, half_year = now - timedelta(days=30), now - timedelta(days=180)
    return {
        "version": "2.1",
        "software": {"name": "syndicator", "version": __version__},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": len(accounts),
                "activeMonth": sum(1 for d in accounts if d is not None and d >= month),
                "activeHalfyear": sum(1 for d in accounts if d is not None and d >= half_year),
            },
            "localPosts": len(catalog.posts),
        },
        "metadata": {"nodeName": settings.site_title},
    }
