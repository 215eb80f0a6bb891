"""The web app: one WSGI entry that walks the route table (``routes``), with the app's views behind it.

``create_app`` reads no files and starts no scheduler; requests only read the
Snapshot that the Builder publishes. The builder, the hub and the stores are
kept in ``app.extensions["syndicator"]`` (``context.Shared``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Flask
from flask import Response
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from syndicator.config import Settings
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.service.audience import Audience
from syndicator.service.build import Builder
from syndicator.service.clients import Throttle
from syndicator.service.federation import Federation
from syndicator.service.following import Following
from syndicator.service.http import context
from syndicator.service.http.answer import Answer
from syndicator.service.http.context import EXTENSION
from syndicator.service.http.context import Shared
from syndicator.service.http.fediweb import INBOX_SLOTS
from syndicator.service.http.followpages import SUBSCRIBE_SLOTS
from syndicator.service.http.origin import Origins
from syndicator.service.http.pages import CONTENT_SECURITY_POLICY
from syndicator.service.http.pages import answer_page
from syndicator.service.http.proxies import Proxies
from syndicator.service.http.routes import RENAMED
from syndicator.service.http.routes import ROUTES
from syndicator.service.http.routes import Route
from syndicator.service.http.views import answered
from syndicator.service.http.websub import WEBSUB_SLOTS
from syndicator.service.hub import Hub
from syndicator.store.partners import PartnerStore

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

HEALTHZ = "/healthz"  # asked by monitors on the host itself, through any address: not a reader's request
Handler = Callable[["WSGIEnvironment", str], Answer | None]  # a front row's: its answer, or None to pass it on


class Dispatcher:
    """The app's WSGI entry: the request as a trusted proxy names it (its origin compared with site_url), then
    the route table's front rows top to bottom, then the views (Flask's routing)."""

    def __init__(self, front: list[tuple[str, Handler]], views: WSGIApplication, shared: Shared) -> None:
        self.front = front
        self.views = views
        self.proxies = Proxies(shared.settings.trusted_proxies)
        self.origins = shared.origins

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if self.proxies.from_readers(environ) and path != HEALTHZ:
            self.origins.saw(environ)
        for prefix, handler in self.front:
            if path.startswith(prefix):
                found = handler(environ, path)
                if found is not None:
                    status, headers, body = found
                    start_response(status, headers)
                    return body
        return self.views(environ, start_response)


def slot_threads(settings: Settings) -> int:
    """The request threads the slots need beyond those answering (serve adds them): one for each request that may
    wait on a slow client's body or a remote server, of the parts that are on (the built-in hub, the fediverse,
    following by email), so those never hold the threads that answer feeds."""
    hub = 0 if settings.websub_hub else WEBSUB_SLOTS
    return hub + (INBOX_SLOTS if settings.fediverse else 0) + (SUBSCRIBE_SLOTS if settings.smtp_url else 0)


def install(app: Flask, shared: Shared, routes: tuple[Route, ...] = ROUTES) -> list[tuple[str, Handler]]:
    """Give the app the table's views, in order; the front rows' handlers, made over the shared objects."""
    front: list[tuple[str, Handler]] = []
    for route in routes:
        if route.front:
            front.append((route.prefix, route.view(shared)))
        elif route.query:
            app.before_request(_query_view(route))
        else:
            methods = None if route.methods == ("*",) else list(route.methods)
            app.add_url_rule(route.pattern, view_func=route.view, methods=methods, strict_slashes=route.strict_slashes)
    app.url_value_preprocessor(RENAMED)
    return front


def _query_view(route: Route) -> Callable[[], BaseResponse | None]:
    """A query row's view, run before routing: for its path with its query key (None lets the views answer)."""

    def view() -> BaseResponse | None:
        if request.path != route.pattern or route.query not in request.args:
            return None
        answer: BaseResponse | None = route.view()
        return answer

    return view


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
        # Where an address leads changes with the posts (a slug given, then taken back): a browser keeps a 301 for
        # good and a CDN for minutes unless told, and the two redirects would then lead to each other. (A 304 is
        # its 200's, headers and all.)
        if response.status_code != 304:
            response.headers.setdefault("Cache-Control", "no-cache")
    elif response.status_code >= 400 and request.path.startswith(FEEDS_PREFIX):
        # A feed's error, as its answers: a reader in a browser page may read it (a 410 says unsubscribe), and no
        # cache keeps it (a feed not there yet may be the next reload's; no purge names it).
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        response.headers.setdefault("Cache-Control", "no-cache")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def _plain_error(error: HTTPException) -> Response:
    """An error in plain text, with the headers the error carries (a 405's Allow, as RFC 9110 §15.5.6 asks)."""
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    text = f"{error.code} {error.name}: {error.description}\n"
    return Response(text, status=error.code, headers=headers, mimetype="text/plain")


def _not_found(error: HTTPException) -> Response:
    """404, and 410 (a deleted post, a category gone): the site's own page for a reader's address, as WordPress shows
    its 404 page for both; plain text under /feeds/ and before the first load."""
    snapshot = context.builder().snapshot
    page = snapshot.pages.not_found if snapshot is not None else None
    if page is None or request.path.startswith(FEEDS_PREFIX):
        return _plain_error(error)
    return answered(*answer_page(request.environ, page, f"{error.code} {error.name}"))


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
    app = Flask("syndicator", static_folder=None)  # the package: its templates/; its static/ is a row of the table
    app.static_folder = "static"
    websub_slots, inbox_slots = threading.BoundedSemaphore(WEBSUB_SLOTS), threading.BoundedSemaphore(INBOX_SLOTS)
    subscribe_slots = threading.BoundedSemaphore(SUBSCRIBE_SLOTS)
    throttle = Throttle()  # failed partner and /stats/ credentials, per client
    shared = Shared(
        settings,
        builder,
        hub,
        partners,
        audience,
        throttle,
        websub_slots,
        federation,
        inbox_slots,
        following,
        Origins(settings.site_url),
        subscribe_slots,
    )
    app.extensions[EXTENSION] = shared
    app.wsgi_app = Dispatcher(install(app, shared), app.wsgi_app, shared)  # type: ignore[method-assign]
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _plain_error)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(410, _not_found)
    return app
