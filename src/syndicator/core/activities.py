"""Posts as ActivityPub objects and activities, and what a reload gives the followers to receive.

Each account publishes its own copy of a post (an ``Article`` whose id is
under the account, ``attributedTo`` it): Mastodon shows a post in a follower's
timeline only from the account they follow. The article's ``summary`` and
``content`` are the excerpt with a link to the post (what belongs in a
timeline), tags become hashtags, the featured image an attachment.

``changes`` is the decision after a reload: given what was federated before
(post id -> the accounts that published it and a digest of what they sent)
and the public catalog now, the activities to send — ``Create`` for a post
new to an account while it is news (core.news), ``Update`` when what it
sends changed, ``Delete`` with a ``Tombstone`` for a post gone (or gone from
that account) — and the new record.
Pure: takes the settings and ``now``. No I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any

from syndicator.config import Settings
from syndicator.core.actors import AS_CONTEXT
from syndicator.core.actors import OBJECTS
from syndicator.core.actors import PUBLIC
from syndicator.core.actors import Actor
from syndicator.core.actors import actor_url
from syndicator.core.actors import followers_url
from syndicator.core.actors import handles_of
from syndicator.core.catalog import Catalog
from syndicator.core.news import is_news
from syndicator.core.summary import timeline_html
from syndicator.core.urls import archive_url
from syndicator.core.urls import post_url
from syndicator.digest import digest_text
from syndicator.model import Post

OUTBOX_PAGE = 20  # activities per page of an outbox
_NOT_A_WORD = re.compile(r"[^\w]+")
_CONTEXT: list[Any] = [AS_CONTEXT, {"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"}]


@dataclass(frozen=True, slots=True)
class Federated:
    """What was sent of one post: the accounts that published it, a digest of the article, whether deleted.

    ``generation`` counts how often the post was published again after a
    deletion: each time its objects get new ids (servers keep a deleted id
    gone). ``updated``: when a change of the article was last first seen (the
    ``updated`` its Update carried, and the article keeps), None before any.
    """

    handles: tuple[str, ...]
    digest: str
    deleted: bool = False
    generation: int = 1
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One activity for one account's followers: its type, the post's id and the JSON to send."""

    handle: str
    kind: str  # "Create", "Update" or "Delete"
    post_id: str
    body: bytes


def post_key(post_id: str, generation: int = 1) -> str:
    """The part of a post's object ids that names the post: a digest of its published id (stable across renames)."""
    key = digest_text(post_id)[:24]
    return key if generation == 1 else f"{key}-{generation}"


def object_id(settings: Settings, handle: str, post_id: str, generation: int = 1) -> str:
    return f"{actor_url(settings, handle)}{OBJECTS}{post_key(post_id, generation)}"


def hashtag(name: str) -> str:
    """A tag's name as a hashtag Mastodon accepts: word characters only, words joined in CamelCase."""
    words = [w for w in _NOT_A_WORD.split(name) if w]
    if len(words) == 1:
        return f"#{words[0]}"
    return "#" + "".join(w[:1].upper() + w[1:] for w in words) if words else ""


def excerpt_html(post: Post, settings: Settings) -> str:
    """The excerpt with a link to the whole post: what a timeline shows."""
    return timeline_html(post.summary_html, post_url(settings, post), post.title)


def article_fields(post: Post, settings: Settings) -> dict[str, Any]:
    """The article's fields that are the same for every account publishing it (what its digest covers)."""
    fields: dict[str, Any] = {
        "type": "Article",
        "name": post.title,
        "summary": excerpt_html(post, settings),
        "content": excerpt_html(post, settings),
        "mediaType": "text/html",
        "url": post_url(settings, post),
        "published": _time(post.date),
        "updated": _time(post.updated),
    }
    tags = [
        {"type": "Hashtag", "href": archive_url(settings, "tag", t.slug), "name": hashtag(t.name)} for t in post.tags
    ]
    if any(t["name"] for t in tags):
        fields["tag"] = [t for t in tags if t["name"]]
    if post.image is not None:
        image: dict[str, Any] = {"type": "Image", "url": post.image.url, "name": post.image.alt}
        if post.image.media_type:
            image["mediaType"] = post.image.media_type
        if post.image.width:
            image.update(width=post.image.width, height=post.image.height)
        fields["attachment"] = [image]
    return fields


def article_digest(fields: Mapping[str, Any]) -> str:
    return digest_text(json.dumps(fields, sort_keys=True, ensure_ascii=False))


def sent_fields(fields: Mapping[str, Any], sent: Federated | None) -> dict[str, Any]:
    """The article's fields as it is sent and served: after an Update, ``updated`` is when its change was seen.

    The post's own ``updated`` moves only with an edit of its text (the
    ledger's); a new image or tag changes the article all the same, and a
    server keeps the version whose ``updated`` is the latest.
    """
    if sent is None or sent.updated is None:
        return dict(fields)
    return {**fields, "updated": _time(sent.updated)}


def article(
    fields: Mapping[str, Any], settings: Settings, handle: str, post_id: str, generation: int
) -> dict[str, Any]:
    """The article as one account publishes it: its own id, attributed to it, to the public and its followers."""
    return {
        "id": object_id(settings, handle, post_id, generation),
        **fields,
        "attributedTo": actor_url(settings, handle),
        "to": [PUBLIC],
        "cc": [followers_url(settings, handle)],
    }


def activity(kind: str, settings: Settings, handle: str, obj: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    """An activity of one account about an object, addressed as the object is."""
    return {
        "@context": _CONTEXT,
        "id": f"{obj['id']}#{suffix}",
        "type": kind,
        "actor": actor_url(settings, handle),
        "object": {key: value for key, value in obj.items() if key != "@context"},
        "to": [PUBLIC],
        "cc": [followers_url(settings, handle)],
    }


def tombstone(settings: Settings, handle: str, post_id: str, generation: int, now: datetime) -> dict[str, Any]:
    return {
        "id": object_id(settings, handle, post_id, generation),
        "type": "Tombstone",
        "formerType": "Article",
        "deleted": _time(now),
    }


def accept(settings: Settings, handle: str, follow: Mapping[str, Any]) -> dict[str, Any]:
    """``Accept`` of a ``Follow`` (the follow as it came, so the follower recognises it)."""
    follow_id = str(follow.get("id", ""))
    return {
        "@context": AS_CONTEXT,
        "id": f"{actor_url(settings, handle)}#accepts/{digest_text(follow_id)[:24]}",
        "type": "Accept",
        "actor": actor_url(settings, handle),
        "object": dict(follow),
        "to": [str(follow.get("actor", ""))],
    }


def encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


ArticleOf = Callable[[Post], "Article"]  # a post's article as every account sends it


@dataclass(frozen=True, slots=True)
class Article:
    """A post's article fields (the same for every account), their digest, and the accounts that publish it."""

    fields: dict[str, Any]
    digest: str
    handles: tuple[str, ...]


def article_of(settings: Settings) -> ArticleOf:
    """The article of a post (the service wraps it in a memo: posts that did not change recur)."""

    def of(post: Post) -> Article:
        fields = article_fields(post, settings)
        return Article(fields, article_digest(fields), handles_of(post, settings))

    return of


def changes(
    sent: Mapping[str, Federated],
    catalog: Catalog,
    settings: Settings,
    now: datetime,
    of: ArticleOf | None = None,
    *,
    announce: bool = True,
) -> tuple[list[Outgoing], dict[str, Federated]]:
    """What to send after a reload, and the new record of what was sent (only the posts that changed).

    ``catalog`` is the public one: posts for partners, drafts and posts not
    yet due are not in it, so they are never sent (a future post when it comes
    due). Without ``announce`` (the first reload) only the record is made.
    """
    of = of or article_of(settings)
    out: list[Outgoing] = []
    record: dict[str, Federated] = {}
    for post in catalog.posts:
        found = of(post)
        before = sent.get(post.id)
        if (
            before is not None
            and not before.deleted
            and (before.handles, before.digest) == (found.handles, found.digest)
        ):
            continue
        now_sent = record[post.id] = _record(before, found, now)
        if announce:
            out += _publish(post, sent_fields(found.fields, now_sent), before, now_sent, settings, now)
    published = {post.id for post in catalog.posts}
    for post_id, before in sent.items():
        if not before.deleted and post_id not in published:
            if announce:
                out += [_delete(settings, h, post_id, before.generation, now) for h in before.handles]
            record[post_id] = replace(before, deleted=True)
    return out, record


def _record(before: Federated | None, found: Article, now: datetime) -> Federated:
    """What is sent of a post that is new, published again, or changed: a change dated when first seen."""
    if before is None:
        return Federated(found.handles, found.digest)
    if before.deleted:
        return Federated(found.handles, found.digest, generation=before.generation + 1)
    updated = before.updated
    if before.digest != found.digest:
        updated = now.replace(microsecond=0)  # the article's times are in whole seconds
        if before.updated is not None and updated <= before.updated:
            updated = before.updated + timedelta(seconds=1)  # each Update later than the last, or it is ignored
    return Federated(found.handles, found.digest, generation=before.generation, updated=updated)


def _publish(
    post: Post,
    fields: dict[str, Any],
    before: Federated | None,
    now_sent: Federated,
    settings: Settings,
    now: datetime,
) -> list[Outgoing]:
    """Create for the accounts new to the post, Update where it changed, Delete for those it left.

    A Create goes only while the post is news (core.news): a backlog, or an
    old post added to a category, reaches no timeline (it is in the outbox).
    """
    news = is_news(post, now)
    if before is None or before.deleted:
        generation = 1 if before is None else before.generation + 1
        return [_send("Create", post, fields, settings, h, generation) for h in now_sent.handles if news]
    out = []
    for handle in now_sent.handles:
        if handle not in before.handles:
            if news:
                out.append(_send("Create", post, fields, settings, handle, before.generation))
        elif before.digest != now_sent.digest:
            out.append(_send("Update", post, fields, settings, handle, before.generation))
    out += [_delete(settings, h, post.id, before.generation, now) for h in before.handles if h not in now_sent.handles]
    return out


def _send(kind: str, post: Post, fields: dict[str, Any], settings: Settings, handle: str, generation: int) -> Outgoing:
    obj = article(fields, settings, handle, post.id, generation)
    suffix = "create" if kind == "Create" else f"update-{article_digest(fields)[:16]}"  # one id per version
    return Outgoing(handle, kind, post.id, encode(activity(kind, settings, handle, obj, suffix)))


def _delete(settings: Settings, handle: str, post_id: str, generation: int, now: datetime) -> Outgoing:
    obj = tombstone(settings, handle, post_id, generation, now)
    return Outgoing(handle, "Delete", post_id, encode(activity("Delete", settings, handle, obj, "delete")))


def served_article(
    post: Post, settings: Settings, handle: str, sent: Mapping[str, Federated] | None = None
) -> dict[str, Any]:
    """A post's article as an account serves it (outbox, object URL): as its last Create or Update sent it."""
    found = sent.get(post.id) if sent is not None else None
    generation = found.generation if found is not None else 1
    return article(sent_fields(article_fields(post, settings), found), settings, handle, post.id, generation)


def outbox_page(
    actor: Actor, settings: Settings, page: int, sent: Mapping[str, Federated] | None = None
) -> dict[str, Any] | None:
    """The outbox (``page`` 0: the collection) or one page of it, newest first; None past the last page.

    ``sent``: what was federated of each post (its objects' generation, when it last changed).
    """
    url = f"{actor_url(settings, actor.handle)}/outbox"
    posts = actor.group.posts
    pages = max(1, -(-len(posts) // OUTBOX_PAGE))
    if page == 0:
        return {
            "@context": AS_CONTEXT,
            "id": url,
            "type": "OrderedCollection",
            "totalItems": len(posts),
            "first": f"{url}?page=1",
            "last": f"{url}?page={pages}",
        }
    if page > pages:
        return None
    items = []
    for post in posts[(page - 1) * OUTBOX_PAGE : page * OUTBOX_PAGE]:
        obj = served_article(post, settings, actor.handle, sent)
        items.append(activity("Create", settings, actor.handle, obj, "create"))
    document: dict[str, Any] = {
        "@context": _CONTEXT,
        "id": f"{url}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": url,
        "totalItems": len(posts),
        "orderedItems": [{k: v for k, v in item.items() if k != "@context"} for item in items],
    }
    if page < pages:
        document["next"] = f"{url}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{url}?page={page - 1}"
    return document


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
