"""The Flask app: feeds from the current Snapshot, HTML pages, WordPress redirects, /healthz.

``create_app`` reads no files and starts no scheduler; requests only read the
Snapshot that the Builder publishes.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from collections.abc import Iterable
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.http import http_date
from werkzeug.http import is_resource_modified
from werkzeug.http import parse_accept_header
from werkzeug.http import parse_etags
from werkzeug.http import quote_etag
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import get_input_stream

from syndicator.build import Builder
from syndicator.build import Snapshot
from syndicator.config import Settings
from syndicator.hub import Hub
from syndicator.hub import HubRequestError
from syndicator.hub import link_header
from syndicator.model import Category
from syndicator.model import Post
from syndicator.model import Term
from syndicator.output import FeedFile

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

bp = Blueprint("syndicator", __name__)
ARCHIVE_MAX_AGE = 86400  # a full archive page changes only when one of its posts is edited

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _settings() -> Settings:
    settings: Settings = current_app.config["SYNDICATOR_SETTINGS"]
    return settings


def _snapshot() -> Snapshot:
    """The snapshot this request sees: taken once, so a reload never mixes two in one answer."""
    snapshot: Snapshot | None = g.get("snapshot")
    if snapshot is None:
        builder: Builder = current_app.config["SYNDICATOR_BUILDER"]
        snapshot = builder.snapshot
        if snapshot is None:
            abort(503, "the posts are still loading")
        g.snapshot = snapshot
    return snapshot


@bp.route("/feeds/<path:subpath>", methods=["GET", "HEAD"])
def feed(subpath: str) -> BaseResponse:
    """Every existing feed is answered by FeedServer before Flask; what reaches here is unknown."""
    abort(404)


class FeedServer:
    """WSGI layer that answers GET/HEAD of a feed straight from the current Snapshot.

    The hot path of the service, so it skips Flask's routing and request objects;
    conditional GET still goes through Werkzeug's own helpers. Every other request
    goes on to the Flask app.
    """

    def __init__(self, app: WSGIApplication, builder: Builder, settings: Settings) -> None:
        self.app = app
        self.builder = builder
        self.output_dir = settings.output_dir
        self.cache_control = f"public, max-age={settings.reload_interval}"
        self.long_cache_control = f"public, max-age={ARCHIVE_MAX_AGE}"
        self._headers: dict[tuple[str, bool], list[tuple[str, str]]] = {}
        self.hub_url = settings.hub_url
        self.base_url = settings.base_url
        self._headers_of: Snapshot | None = None

    def _base_headers(self, path: str, feed_file: FeedFile, zipped: bool) -> list[tuple[str, str]]:
        """The headers of one representation (computed once per snapshot)."""
        key = (path, zipped)
        headers = self._headers.get(key)
        if headers is None:
            headers = [
                ("Content-Type", feed_file.media_type),
                ("ETag", quote_etag(feed_file.gzip_etag if zipped else feed_file.etag)),
                ("Last-Modified", http_date(int(feed_file.last_modified))),
                ("Cache-Control", self.long_cache_control if feed_file.long_lived else self.cache_control),
                ("Vary", "Accept-Encoding"),
                ("Access-Control-Allow-Origin", "*"),
                ("X-Content-Type-Options", "nosniff"),
            ]
            if not path.endswith(".opml"):
                headers.append(("Link", link_header(self.hub_url, self.base_url + path)))
            if zipped:
                headers.append(("Content-Encoding", "gzip"))
            self._headers[key] = headers
        return headers

    def _read(self, relative: str) -> bytes | None:
        """The bytes of a file the snapshot lists (never a path from the request itself)."""
        try:
            return (self.output_dir / relative).read_bytes()
        except OSError:
            return None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        snapshot = self.builder.snapshot
        feed_file = snapshot.files.get(path) if snapshot is not None and path.startswith("/feeds/") else None
        if feed_file is None or method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        if snapshot is not self._headers_of:
            self._headers, self._headers_of = {}, snapshot
        zipped = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING"))["gzip"] > 0
        headers = self._base_headers(path, feed_file, zipped)
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match:
            # Either representation's tag names the same bytes: answer 304 for both. It wins over If-Modified-Since.
            tags = parse_etags(if_none_match)  # compared weakly (RFC 9110 13.1.2): W/"x" matches "x"
            unchanged = tags.contains_weak(feed_file.etag) or tags.contains_weak(feed_file.gzip_etag)
        else:
            unchanged = not is_resource_modified(environ, last_modified=http_date(int(feed_file.last_modified)))
        if unchanged:
            start_response("304 Not Modified", [h for h in headers if h[0] != "Content-Type"])
            return []
        if feed_file.on_disk:  # an archive page: too many to keep in memory, read from its file
            body = self._read(path.removeprefix("/feeds/") + (".gz" if zipped else ""))
            if body is None:
                return self.app(environ, start_response)
        else:
            body = feed_file.gzip_body if zipped else feed_file.body
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body] if method == "GET" else []


KINDS = "any(category, tag, author)"  # the taxonomies: each has an archive page and WordPress feed URLs
_HEADINGS = {"category": "Category Archives", "tag": "Tag Archives", "author": "Author Archives"}


def _group_or_404(kind: str, slug: str) -> Category:
    group = _snapshot().catalog.taxonomy(kind).get(slug)
    if group is None:
        abort(404)
    return group


@bp.route("/")
def index() -> str:
    snapshot = _snapshot()
    settings = _settings()
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
    group = _group_or_404(kind, slug)
    return render_template(
        "category.html",
        heading=f"{_HEADINGS[kind]}: {group.name}",
        category=group,
        posts=group.posts,
        feed_stem=f"{kind}/{slug}",
        feed_title=f"{_settings().site_title} — {group.name}",
    )


@bp.route("/posts/<slug>/")
def post_page(slug: str) -> str | BaseResponse:
    snapshot = _snapshot()
    post = snapshot.catalog.by_slug.get(slug)
    if post is None:
        moved_to = snapshot.redirects.get(slug)
        if moved_to is not None and moved_to in snapshot.catalog.by_slug:
            return redirect(f"/posts/{moved_to}/", 301)
        abort(404)
    return render_template("post.html", post=post, feed_stem=None)


@bp.route("/feed/")
def wp_feed() -> BaseResponse:
    return redirect("/feeds/all.rss", 301)


@bp.route("/feed/atom/")
def wp_feed_atom() -> BaseResponse:
    return redirect("/feeds/all.atom", 301)


@bp.route(f"/<{KINDS}:kind>/<slug>/feed/")
def wp_taxonomy_feed(kind: str, slug: str) -> BaseResponse:
    _group_or_404(kind, slug)
    return redirect(f"/feeds/{kind}/{slug}.rss", 301)


@bp.route(f"/<{KINDS}:kind>/<slug>/feed/atom/")
def wp_taxonomy_feed_atom(kind: str, slug: str) -> BaseResponse:
    _group_or_404(kind, slug)
    return redirect(f"/feeds/{kind}/{slug}.atom", 301)


WEBSUB_MAX_BODY = 64 * 1024  # bytes of a POST /websub body; a longer one is answered 413
WEBSUB_SLOTS = 4  # POST /websub requests handled at once; cli.serve_http adds as many request threads for them
# -- The old addresses of an imported WordPress site, through [redirects] in the config ----------------------------
# Every Location is built from site_url, never from the request's Host header. Feeds under /feeds/ are answered
# by FeedServer before Flask: an old feed path reaches these routes only when it is no current feed.

_REDIRECT_VIEWS: dict[str, Callable[..., BaseResponse]] = {  # views that only redirect
    "syndicator.wp_taxonomy_feed": wp_taxonomy_feed,
    "syndicator.wp_taxonomy_feed_atom": wp_taxonomy_feed_atom,
}


def _moved(path: str) -> BaseResponse:
    """301 to a path of this site (already URL-encoded), under site_url."""
    return redirect(_settings().base_url + path, 301)


@bp.url_value_preprocessor
def _renamed_taxonomy(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An old category, tag or author slug of [redirects] answers 301 at the same address under its new slug."""
    if endpoint is None or not values or "kind" not in values or "slug" not in values:
        return
    new = _settings().redirects.get(values["kind"], values["slug"])
    if new is None:
        return
    snapshot = _snapshot()
    taxonomy = snapshot.catalog.taxonomy(values["kind"])
    if values["slug"] in taxonomy or new not in taxonomy:
        return
    moved = {**values, "slug": new}
    if endpoint in _REDIRECT_VIEWS:  # one hop: the WordPress feed URL goes straight to the new feed
        abort(_REDIRECT_VIEWS[endpoint](**moved))
    target = url_for(endpoint, **moved)
    if not target.startswith("/feeds/") or target in snapshot.files:
        abort(_moved(target))


@bp.route(f"/feeds/<{KINDS}:kind>/<slug>.<any(atom, rss, json):ext>", methods=["GET", "HEAD"])
@bp.route(f"/feeds/<{KINDS}:kind>/<slug>/archive/<int:number>.atom", methods=["GET", "HEAD"])
def old_taxonomy_feed(kind: str, slug: str, ext: str = "atom", number: int = 0) -> BaseResponse:
    """No current feed has this path; a renamed slug was redirected before the view (``_renamed_taxonomy``)."""
    abort(404)


def _post_moved(slug: str | None) -> BaseResponse:
    """301 to a post's page (following the ledger's renames), or 404 when no such post is published."""
    snapshot = _snapshot()
    if slug is not None and slug not in snapshot.catalog.by_slug:
        slug = snapshot.redirects.get(slug)
    if slug is None or slug not in snapshot.catalog.by_slug:
        abort(404)
    return _moved(f"/posts/{quote(slug)}/")


@bp.route("/<int:year>/<int:month>/<int:day>/<slug>/", strict_slashes=False)
@bp.route("/<int:year>/<int:month>/<slug>/", strict_slashes=False)
@bp.route("/<slug>/", strict_slashes=False)
def old_permalink(slug: str, year: int = 0, month: int = 0, day: int = 0) -> BaseResponse:
    """WordPress permalinks (/YYYY/MM/DD/<slug>/, /YYYY/MM/<slug>/, /<slug>/) answer 301 to the post's page.

    Of posts that shared a slug on WordPress (imported as <slug>, <slug>-2...), a dated
    permalink goes to the one of that date.
    """
    if not slug.isdigit():  # digits are WordPress ids in the table (/?p=, /archives/), never old slugs
        slug = _settings().redirects.get("post", slug) or slug
    if year:
        by_slug = _snapshot().catalog.by_slug
        candidates = [slug, *(f"{slug}-{n}" for n in range(2, 10))]
        slug = next((s for s in candidates if s in by_slug and _dated(by_slug[s], year, month, day)), slug)
    return _post_moved(slug)


def _dated(post: Post, year: int, month: int, day: int) -> bool:
    """Whether a post's date, in some time zone (UTC-12 to UTC+14, as WordPress's local dates are), is this one."""
    earliest, latest = post.date - timedelta(hours=12), post.date + timedelta(hours=14)
    if not day:
        return (earliest.year, earliest.month) <= (year, month) <= (latest.year, latest.month)
    try:
        return earliest.date() <= date(year, month, day) <= latest.date()
    except ValueError:  # no such day (an address made up by hand)
        return False


@bp.route("/archives/<int:post_id>/", strict_slashes=False)
def old_numeric_permalink(post_id: int) -> BaseResponse:
    """WordPress's numeric permalinks answer 301 to the post, through the [redirects] post ids."""
    return _post_moved(_settings().redirects.get("post", str(post_id)))


@bp.before_request
def _wordpress_query() -> BaseResponse | None:
    """/?p=<id> (WordPress's default permalinks) answers 301 to the post, through the [redirects] post ids."""
    if request.path != "/" or not request.args.get("p", "").isdigit():  # WordPress reads ?p=abc as the home page
        return None
    return _post_moved(_settings().redirects.get("post", request.args["p"]))


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
    snapshot = _snapshot()
    base = _settings().base_url
    topics = (base + path for path, f in snapshot.files.items() if not f.on_disk and not path.endswith(".opml"))
    try:
        hub.request(form, topics)
    except HubRequestError as exc:
        return Response(f"{exc}\n", status=exc.status, mimetype="text/plain")
    return Response("Accepted: verification of intent follows\n", status=202, mimetype="text/plain")


@bp.route("/healthz")
def healthz() -> Response:
    builder: Builder = current_app.config["SYNDICATOR_BUILDER"]
    snapshot = builder.snapshot
    body: dict[str, Any] = {"status": "degraded", "posts": 0, "categories": 0, "loaded_at": None, "problems": []}
    if snapshot is not None:
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
            next_publish_at=report.next_publish_at.isoformat() if report.next_publish_at else None,
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
    response.headers["Location"] = _settings().base_url + path


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


def create_app(settings: Settings, builder: Builder, hub: Hub | None = None) -> Flask:
    """Make the web app over a Builder's snapshots (and the built-in WebSub hub, when given)."""
    app = Flask(__name__)
    app.config["SYNDICATOR_SETTINGS"] = settings
    app.config["SYNDICATOR_BUILDER"] = builder
    app.config["SYNDICATOR_HUB"] = hub
    app.config["SYNDICATOR_WEBSUB_SLOTS"] = threading.BoundedSemaphore(WEBSUB_SLOTS)
    app.register_blueprint(bp)
    app.wsgi_app = FeedServer(app.wsgi_app, builder, settings)  # type: ignore[method-assign]
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _plain_error)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        return {"settings": settings, "post_terms": _post_terms}

    @app.template_filter("longdate")
    def longdate(value: datetime) -> str:
        return f"{value:%B} {value.day}, {value.year}"

    return app


def _post_terms(post: Post) -> list[Term]:
    """A post's categories under their displayed names."""
    snapshot = _snapshot()
    return [Term(t.slug, snapshot.catalog.name_of(t)) for t in post.categories]
