"""The Flask app: HTML pages, the WebSub endpoint, /healthz; feeds come first through the FeedServer.

``create_app`` reads no files and starts no scheduler; requests only read the
Snapshot that the Builder publishes.
"""

from __future__ import annotations

import io
import threading
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import get_input_stream

from syndicator.config import Settings
from syndicator.core.assets import site_image_urls
from syndicator.core.plan import file_url
from syndicator.model import Post
from syndicator.model import Term
from syndicator.service import context
from syndicator.service import oldurls
from syndicator.service import statspage
from syndicator.service.assetserver import AssetServer
from syndicator.service.audience import Audience
from syndicator.service.audience import Counting
from syndicator.service.build import Builder
from syndicator.service.clients import Throttle
from syndicator.service.context import KINDS
from syndicator.service.feedserver import FeedServer
from syndicator.service.hub import Hub
from syndicator.service.hub import HubRequestError
from syndicator.service.partners import PartnerServer
from syndicator.store.partners import PartnerStore

if TYPE_CHECKING:
    pass

bp = context.bp
oldurls.register(bp)
statspage.register(bp)
_HEADINGS = {"category": "Category Archives", "tag": "Tag Archives", "author": "Author Archives"}

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; media-src 'self' https: http:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@bp.route("/feeds/<path:subpath>", methods=["GET", "HEAD"])
def feed(subpath: str) -> BaseResponse:
    """Every existing feed is answered by FeedServer before Flask; what reaches here is unknown."""
    abort(404)


@bp.route("/")
def index() -> str:
    snapshot = context.snapshot()
    settings = context.settings()
    return render_template(
        "index.html",
        categories=list(snapshot.catalog.categories.values()),
        tags=list(snapshot.catalog.tags.values()),
        authors=list(snapshot.catalog.authors.values()),
        posts=snapshot.catalog.posts[: settings.feed_size],
        feed_stem=None,
    )


@bp.route(f"/<{KINDS}:kind>/<slug>/")
def taxonomy_page(kind: str, slug: str) -> str:
    """An archive page like WordPress's: every post of a category, tag or author, newest first."""
    group = context.group_or_404(kind, slug)
    return render_template(
        "category.html",
        heading=f"{_HEADINGS[kind]}: {group.name}",
        category=group,
        posts=group.posts,
        feed_stem=f"{kind}/{slug}",
        feed_title=f"{context.settings().site_title} — {group.name}",
    )


@bp.route("/posts/<slug>/")
def post_page(slug: str) -> str | BaseResponse:
    snapshot = context.snapshot()
    post = snapshot.catalog.by_slug.get(slug)
    if post is None:
        moved_to = snapshot.redirects.get(slug)
        if moved_to is not None and moved_to in snapshot.catalog.by_slug:
            return redirect(f"/posts/{moved_to}/", 301)
        abort(410 if slug in snapshot.gone.posts else 404)  # a deleted post is gone, not unknown
    return render_template("post.html", post=post, feed_stem=None)


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


def create_app(
    settings: Settings,
    builder: Builder,
    hub: Hub | None = None,
    *,
    partners: PartnerStore | None = None,
    audience: Audience | None = None,
) -> Flask:
    """Make the web app over a Builder's snapshots (and the built-in WebSub hub, when given).

    With ``partners``, /partners/feeds/ answers the partners it holds; with
    ``audience``, public feed fetches are counted (and /stats/ may show them).
    """
    app = Flask("syndicator")  # the package: its templates/ and static/
    app.config["SYNDICATOR_SETTINGS"] = settings
    app.config["SYNDICATOR_BUILDER"] = builder
    app.config["SYNDICATOR_HUB"] = hub
    app.config["SYNDICATOR_WEBSUB_SLOTS"] = threading.BoundedSemaphore(WEBSUB_SLOTS)
    throttle = Throttle()  # failed partner and /stats/ credentials, per client
    app.config.update(SYNDICATOR_PARTNERS=partners, SYNDICATOR_AUDIENCE=audience, SYNDICATOR_THROTTLE=throttle)
    app.register_blueprint(bp)
    assets = AssetServer(app.wsgi_app, builder, settings)
    app.wsgi_app = FeedServer(assets, builder, settings)  # type: ignore[method-assign]
    if audience is not None:
        app.wsgi_app = Counting(app.wsgi_app, builder, audience)  # type: ignore[method-assign]
    if partners is not None:
        app.wsgi_app = PartnerServer(app.wsgi_app, builder, settings, partners, throttle, audience)  # type: ignore[method-assign]
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _plain_error)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        return {"settings": settings, "post_terms": _post_terms, "site_images": site_image_urls(settings)}

    @app.template_filter("longdate")
    def longdate(value: datetime) -> str:
        return f"{value:%B} {value.day}, {value.year}"

    return app


def _post_terms(post: Post) -> list[Term]:
    """A post's categories under their displayed names."""
    snapshot = context.snapshot()
    return [Term(t.slug, snapshot.catalog.name_of(t)) for t in post.categories]


def _isoformat(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
