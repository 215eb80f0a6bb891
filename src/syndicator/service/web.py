"""The Flask app: HTML pages, the WebSub endpoint, /healthz; feeds come first through the FeedServer.

``create_app`` reads no files and starts no scheduler; requests only read the
Snapshot that the Builder publishes.
"""

from __future__ import annotations

import io
import threading
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import get_input_stream

from syndicator.config import Settings
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import POSTS_PREFIX
from syndicator.core.urls import archive_base
from syndicator.core.urls import file_url
from syndicator.core.urls import page_path
from syndicator.core.urls import post_path
from syndicator.service import context
from syndicator.service import fediweb
from syndicator.service import followpages
from syndicator.service import oldurls
from syndicator.service import statspage
from syndicator.service.assetserver import AssetServer
from syndicator.service.audience import Audience
from syndicator.service.audience import Counting
from syndicator.service.build import Builder
from syndicator.service.clients import Throttle
from syndicator.service.context import KINDS
from syndicator.service.federation import Federation
from syndicator.service.feedserver import FeedServer
from syndicator.service.following import Following
from syndicator.service.hub import Hub
from syndicator.service.hub import HubRequestError
from syndicator.service.pageserver import CONTENT_SECURITY_POLICY
from syndicator.service.pageserver import PageServer
from syndicator.service.pageserver import answer
from syndicator.service.partners import PartnerServer
from syndicator.store.partners import PartnerStore

bp = context.bp
oldurls.register(bp)
statspage.register(bp)
fediweb.register(bp)
followpages.register(bp)


@bp.route(f"{FEEDS_PREFIX}<path:subpath>", methods=["GET", "HEAD"])
def feed(subpath: str) -> BaseResponse:
    """Every existing feed is answered by FeedServer before Flask; what reaches here is unknown."""
    abort(404)


@bp.route("/")
def index() -> BaseResponse:
    return _page("/")


@bp.route("/page/<int:number>/")
def home_page(number: int) -> BaseResponse:
    """The home page's older posts, as WordPress pages them."""
    return _paged("/", number)


@bp.route(f"/<{KINDS}:kind>/<slug>/")
def taxonomy_page(kind: str, slug: str) -> BaseResponse:
    """An archive page like WordPress's: the newest posts of a category, tag or author."""
    context.group_or_404(kind, slug)
    return _page(archive_base(kind, slug))


@bp.route(f"/<{KINDS}:kind>/<slug>/page/<int:number>/")
def taxonomy_paged(kind: str, slug: str, number: int) -> BaseResponse:
    """The archive's older posts: ``page/2/`` the next page_size, and so on."""
    context.group_or_404(kind, slug)
    return _paged(archive_base(kind, slug), number)


@bp.route(f"{POSTS_PREFIX}<slug>/")
def post_page(slug: str) -> BaseResponse:
    snapshot = context.snapshot()
    if slug not in snapshot.catalog.by_slug:
        moved_to = snapshot.redirects.get(slug)
        if moved_to is not None and moved_to in snapshot.catalog.by_slug:
            return redirect(post_path(moved_to), 301)
        abort(410 if slug in snapshot.gone.posts else 404)  # a deleted post is gone, not unknown
    return _page(post_path(slug))


def _page(path: str) -> BaseResponse:
    """A page from the snapshot, rendered by its reload (what the PageServer did not answer: a query string)."""
    page = context.snapshot().pages.by_path.get(path)
    if page is None:
        abort(404)
    return _answered(*answer(request.environ, page))


def _paged(base: str, number: int) -> BaseResponse:
    """Page ``number`` of an archive: page 1 redirects to the archive's first page, one past the last is 404."""
    path = page_path(base, number)
    if number == 1 or (path != request.path and path in context.snapshot().pages.by_path):
        return redirect(path, 301)  # page/1/ (or page/02/) -> the page's one address
    return _page(path)


WEBSUB_MAX_BODY = 64 * 1024  # bytes of a POST /websub body; a longer one is answered 413
WEBSUB_SLOTS = 4  # POST /websub requests handled at once; cli.serve_http adds as many request threads for them


@bp.route("/websub", methods=["POST"])
def websub() -> BaseResponse:
    """WebSub subscribe/unsubscribe: 202 at once, verification of intent later; 4xx with the reason.

    A body over WEBSUB_MAX_BODY is refused before it is read (413); at most
    WEBSUB_SLOTS requests read their bodies at once (503 beyond), so slow
    bodies never hold the threads that answer feeds.
    """
    hub: Hub | None = current_app.config["SYNDICATOR_HUB"]
    if hub is None:
        abort(404)
    too_large = f"a WebSub request body is at most {WEBSUB_MAX_BODY} bytes\n"
    if (request.content_length or 0) > WEBSUB_MAX_BODY:
        return Response(too_large, status=413, mimetype="text/plain")
    slots: threading.BoundedSemaphore = current_app.config["SYNDICATOR_WEBSUB_SLOTS"]
    if not slots.acquire(blocking=False):
        busy = "too many subscription requests at once: try again shortly\n"
        return Response(busy, status=503, mimetype="text/plain", headers={"Retry-After": "5"})
    try:  # read at most one byte past the limit: that tells a chunked body over it
        body = get_input_stream(request.environ, max_content_length=WEBSUB_MAX_BODY + 1).read()
    finally:
        slots.release()
    if len(body) > WEBSUB_MAX_BODY:
        return Response(too_large, status=413, mimetype="text/plain")
    _, fields, _ = FormDataParser().parse(io.BytesIO(body), request.mimetype, len(body), request.mimetype_params)
    form = fields.to_dict()
    settings = context.settings()
    topics = (file_url(settings, path) for path in context.snapshot().report.topics)
    try:
        hub.request(form, topics)
    except HubRequestError as exc:
        return Response(f"{exc}\n", status=exc.status, mimetype="text/plain")
    return Response("Accepted: verification of intent follows\n", status=202, mimetype="text/plain")


@bp.route("/healthz")
def healthz() -> Response:
    builder = context.builder()
    snapshot = builder.snapshot
    body: dict[str, Any] = {"status": "degraded", "posts": 0, "categories": 0, "loaded_at": None, "problems": []}
    if snapshot is None or snapshot.starting:
        body["status"] = "degraded" if builder.last_error else "starting"  # until the first load is done
    else:
        report = snapshot.report
        body.update(
            status="degraded" if report.problems or builder.last_error else "ok",
            posts=report.posts,
            categories=report.categories,
            loaded_at=report.loaded_at.isoformat(),
            problems=[
                {"path": path, "line": line, "message": message} for path, line, message in report.public_problems
            ],
            last_reload_ms=report.duration_ms,
            gone=sorted(snapshot.gone.feeds),
            next_publish_at=_isoformat(snapshot.catalog.next_publish_at),  # the public one
        )
    if builder.last_error:
        body["error"] = "the last reload failed; the server log has the details"
    hub: Hub | None = current_app.config["SYNDICATOR_HUB"]
    if hub is not None:
        body["websub"] = hub.counts()
    federation: Federation | None = current_app.config.get("SYNDICATOR_FEDIVERSE")
    if federation is not None:
        body["fediverse"] = federation.counts()
    following: Following | None = current_app.config["SYNDICATOR_FOLLOWING"]
    if following is not None:
        body["email"] = {"queued": following.outbox.waiting()}  # a count: never an address
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _site_location(response: Response) -> None:
    """Point a redirect at site_url, whatever Host the request named (Werkzeug builds slash redirects from it)."""
    location = response.headers.get("Location")
    if location is None:
        return
    parts = urlsplit(location)
    path = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    response.headers["Location"] = context.settings().base_url + path


def _security_headers(response: Response) -> Response:
    if 300 <= response.status_code < 400:
        _site_location(response)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def _plain_error(error: HTTPException) -> Response:
    response = Response(f"{error.code} {error.name}: {error.description}\n", status=error.code, mimetype="text/plain")
    return response


def _not_found(error: HTTPException) -> Response:
    """404: the site's own page for a reader's address, plain text under /feeds/ and before the first load."""
    snapshot = context.builder().snapshot
    page = snapshot.pages.not_found if snapshot is not None else None
    if page is None or request.path.startswith(FEEDS_PREFIX):
        return _plain_error(error)
    return _answered(*answer(request.environ, page, "404 Not Found"))


def _answered(status: str, headers: list[tuple[str, str]], body: bytes) -> Response:
    """A page's answer as a Flask response (its own Content-Length: a HEAD's body is empty)."""
    response = Response(body, status=status)
    for name, value in headers:
        response.headers[name] = value
    return response


def create_app(
    settings: Settings,
    builder: Builder,
    hub: Hub | None = None,
    *,
    partners: PartnerStore | None = None,
    audience: Audience | None = None,
    federation: Federation | None = None,
    following: Following | None = None,
) -> Flask:
    """Make the web app over a Builder's snapshots (and the built-in WebSub hub, when given).

    With ``partners``, /partners/feeds/ answers the partners it holds; with
    ``audience``, public feed fetches are counted (and /stats/ may show them);
    with ``federation``, the accounts, inboxes, WebFinger and NodeInfo answer; with ``following``, readers may
    subscribe by email.
    """
    app = Flask("syndicator")  # the package: its templates/ and static/
    app.config["SYNDICATOR_SETTINGS"] = settings
    app.config["SYNDICATOR_BUILDER"] = builder
    app.config["SYNDICATOR_HUB"] = hub
    app.config["SYNDICATOR_WEBSUB_SLOTS"] = threading.BoundedSemaphore(WEBSUB_SLOTS)
    app.config["SYNDICATOR_FEDIVERSE"] = federation
    app.config["SYNDICATOR_INBOX_SLOTS"] = threading.BoundedSemaphore(fediweb.INBOX_SLOTS)
    throttle = Throttle()  # failed partner and /stats/ credentials, per client
    app.config.update(SYNDICATOR_PARTNERS=partners, SYNDICATOR_AUDIENCE=audience, SYNDICATOR_THROTTLE=throttle)
    app.config["SYNDICATOR_FOLLOWING"] = following
    app.register_blueprint(bp)
    assets = AssetServer(app.wsgi_app, builder, settings)
    pages = PageServer(assets, builder)  # pages next: answered from the snapshot, as feeds are
    app.wsgi_app = FeedServer(pages, builder, settings)  # type: ignore[method-assign]
    if audience is not None:
        app.wsgi_app = Counting(app.wsgi_app, builder, audience)  # type: ignore[method-assign]
    if partners is not None:
        app.wsgi_app = PartnerServer(app.wsgi_app, builder, settings, partners, throttle, audience)  # type: ignore[method-assign]
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _plain_error)
    app.register_error_handler(404, _not_found)
    return app


def _isoformat(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
