"""The fediverse's addresses: WebFinger, NodeInfo, each account (actor, inbox, outbox, followers, posts), shared inbox.

Every one answers 404 unless ``fediverse`` is on (``routes`` says which view answers which address). An inbox's body is
bounded (INBOX_MAX_BODY, 413 before it is read) and at most INBOX_SLOTS
requests are checked at once (503 beyond): a signer's key may have to be
fetched, and those threads are added to the server's, so feeds never wait.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Response
from flask import request
from werkzeug.wsgi import get_input_stream

from syndicator.core.activities import outbox_page
from syndicator.core.activities import post_key
from syndicator.core.activities import served_article
from syndicator.core.actors import ACTIVITY_JSON
from syndicator.core.actors import AS_CONTEXT
from syndicator.core.actors import Actor
from syndicator.core.actors import actor_document
from syndicator.core.actors import actor_url
from syndicator.core.actors import find_actor
from syndicator.core.actors import followers_url
from syndicator.core.actors import host_meta
from syndicator.core.actors import nodeinfo
from syndicator.core.actors import nodeinfo_links
from syndicator.core.actors import stem_of
from syndicator.core.actors import webfinger as webfinger_document
from syndicator.service.federation import Federation
from syndicator.service.http import context
from syndicator.service.httpsig import Incoming

INBOX_MAX_BODY = 64 * 1024  # bytes of an activity; a longer one is answered 413
INBOX_SLOTS = 8  # inbox requests checked at once; serve adds as many request threads for them
ACTIVITY_MEDIA_TYPES = ("application/activity+json", "application/ld+json", "application/json")  # what an inbox takes
NODEINFO_TYPE = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
ACTIVITY_TYPE = f"{ACTIVITY_JSON}; charset=utf-8"


def _federation() -> Federation | None:
    return context.shared().federation


def _json(document: Any, mimetype: str = ACTIVITY_TYPE, status: int = 200) -> Response:
    body = json.dumps(document, ensure_ascii=False, sort_keys=True)
    response = Response(body, status=status, content_type=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={context.settings().reload_interval}"
    response.headers["Vary"] = "Accept"
    return response


def _plain(status: int, message: str) -> Response:
    return Response(f"{status} {message}\n", status=status, mimetype="text/plain")


def _account(handle: str) -> Actor | Response:
    """The account a handle names, or the answer saying it has none (404; 410 for one whose feed went)."""
    if _federation() is None:
        return _plain(404, "Not Found")
    settings, snapshot = context.settings(), context.snapshot()
    found = find_actor(snapshot.catalog, settings, handle)
    if found is not None:
        return found
    stem = stem_of(settings, handle)
    if stem is not None and stem in snapshot.gone.feeds:
        return _json({"@context": AS_CONTEXT, "id": actor_url(settings, handle), "type": "Tombstone"}, status=410)
    return _plain(404, "no such account")


def webfinger() -> Response:
    """RFC 7033: ``?resource=acct:<handle>@<host>`` -> where the account is."""
    if _federation() is None:
        return _plain(404, "Not Found")
    resource = request.args.get("resource", "")
    if not resource:
        return _plain(400, "resource is required")
    document = webfinger_document(context.snapshot().catalog, context.settings(), resource)
    if document is None:
        return _plain(404, "no such account")
    return _json(document, "application/jrd+json; charset=utf-8")


def host_meta_document() -> Response:
    if _federation() is None:
        return _plain(404, "Not Found")
    response = Response(host_meta(context.settings()), content_type="application/xrd+xml; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def nodeinfo_index() -> Response:
    if _federation() is None:
        return _plain(404, "Not Found")
    return _json(nodeinfo_links(context.settings()), "application/json")


def nodeinfo_document() -> Response:
    if _federation() is None:
        return _plain(404, "Not Found")
    snapshot = context.snapshot()
    return _json(nodeinfo(snapshot.catalog, context.settings(), snapshot.catalog.now), NODEINFO_TYPE)


def actor(handle: str) -> Response:
    """The actor document; a browser (asking for HTML first) is sent to the account's page."""
    found = _account(handle)
    if isinstance(found, Response):
        return found
    if request.accept_mimetypes.best_match([ACTIVITY_JSON, "application/ld+json", "text/html"]) == "text/html":
        return Response(status=303, headers={"Location": found.group.page_url})
    federation = _federation()
    assert federation is not None  # noqa: S101 - _account answered 404 otherwise
    return _json(actor_document(found, context.settings(), federation.public_key(handle)))


def outbox(handle: str) -> Response:
    """The account's posts as Create activities, newest first: the collection, or ``?page=N``."""
    found = _account(handle)
    if isinstance(found, Response):
        return found
    page = request.args.get("page", "0")
    federation = _federation()
    sent = federation.sent() if federation is not None else {}
    document = outbox_page(found, context.settings(), int(page), sent) if page.isdigit() else None
    return _json(document) if document is not None else _plain(404, "no such page")


def followers(handle: str) -> Response:
    """How many follow the account (who they are is not shown)."""
    found = _account(handle)
    if isinstance(found, Response):
        return found
    federation = _federation()
    count = federation.followers.by_handle().get(handle, 0) if federation is not None else 0
    url = followers_url(context.settings(), handle)
    return _json({"@context": AS_CONTEXT, "id": url, "type": "OrderedCollection", "totalItems": count})


def following(handle: str) -> Response:
    """An account follows nobody."""
    found = _account(handle)
    if isinstance(found, Response):
        return found
    url = f"{actor_url(context.settings(), handle)}/following"
    return _json({"@context": AS_CONTEXT, "id": url, "type": "OrderedCollection", "totalItems": 0})


def post_object(handle: str, key: str) -> Response:
    """One of the account's articles, as its last Create or Update delivered it."""
    found = _account(handle)
    if isinstance(found, Response):
        return found
    settings, federation = context.settings(), _federation()
    sent = federation.sent() if federation is not None else {}
    for post in found.group.posts:
        record = sent.get(post.id)
        if post_key(post.id, record.generation if record is not None else 1) == key:
            return _json({"@context": AS_CONTEXT, **served_article(post, settings, handle, sent)})
    return _plain(404, "no such post")


def shared_inbox() -> Response:
    return _receive()


def actor_inbox(handle: str) -> Response:
    found = _account(handle)
    if isinstance(found, Response):
        return found
    return _receive()


def _receive() -> Response:
    """An inbox's POST: bounded, then checked and acted on by the federation."""
    federation = _federation()
    if federation is None:
        return _plain(404, "Not Found")
    if (request.content_length or 0) > INBOX_MAX_BODY:
        return _plain(413, f"an activity is at most {INBOX_MAX_BODY} bytes")
    if request.mimetype not in ACTIVITY_MEDIA_TYPES:
        return _plain(415, "an activity is sent as application/activity+json")
    with context.slot(context.shared().inbox_slots) as free:
        if not free:
            return context.busy("503 too many activities at once: try again shortly\n")
        body = get_input_stream(request.environ, max_content_length=INBOX_MAX_BODY + 1).read()
        if len(body) > INBOX_MAX_BODY:
            return _plain(413, f"an activity is at most {INBOX_MAX_BODY} bytes")
        answer = federation.receive(_incoming(body), context.snapshot().catalog)
    return _plain(answer.status, answer.message)


def _incoming(body: bytes) -> Incoming:
    """The request as its signature covers it; the Host and URL it was sent to, or site_url's."""
    settings = context.settings()
    environ = request.environ
    query = environ.get("QUERY_STRING", "")
    target = request.path + (f"?{query}" if query else "")
    site_host = urlsplit(settings.site_url).netloc
    received = request.host
    hosts = tuple(dict.fromkeys([received, site_host]))
    urls = tuple(dict.fromkeys([f"{settings.base_url}{target}", f"{request.scheme}://{received}{target}"]))
    return Incoming(request.method, target, tuple(request.headers.items()), body, hosts, urls)
