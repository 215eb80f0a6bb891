"""The app's views: pages the Pages handler left (a query string, a redirect), /healthz, static files, unknown feeds.

Each view reads the one Snapshot its request took (``context.snapshot``); the
route table (``routes``) says which URL each one answers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import request
from flask import send_file
from werkzeug.wrappers import Response as BaseResponse

from syndicator.core.urls import archive_base
from syndicator.core.urls import page_path
from syndicator.core.urls import post_path
from syndicator.core.urls import split_stem
from syndicator.service.http import context
from syndicator.service.http.pages import answer_page
from syndicator.store.templates import theme_static

MAX_LISTED = 100  # problems and gone feeds /healthz lists at most (a monitor polls it; with ``<key>_total``)


def static_file(filename: str) -> BaseResponse:
    """A file of theme_dir's static/ folder, else of the package's: the pages' stylesheet and icon, the feeds'."""
    themed = theme_static(context.settings(), filename)
    if themed is not None:
        return send_file(themed, max_age=current_app.get_send_file_max_age(filename))
    return current_app.send_static_file(filename)


def unknown_feed(subpath: str) -> BaseResponse:
    """Every feed the snapshot lists was answered by the Feeds handler: what reaches here is unknown."""
    abort(404)


def not_made(**_: object) -> BaseResponse:
    """A root file the snapshot does not hold (a sitemap part past the last; 503 before the first load): the
    SiteFiles handler answered every one it holds, for GET and HEAD; any other method gets the app's 405."""
    context.snapshot()  # before the first load: 503, try again (a 404 robots.txt allows everything)
    abort(404)


def index() -> BaseResponse:
    return page("/")


def home_page(number: int) -> BaseResponse:
    """The home page's older posts, as WordPress pages them."""
    return _paged("/", number)


def taxonomy_page(kind: str, slug: str) -> BaseResponse:
    """An archive page like WordPress's: the newest posts of a category, tag or author."""
    context.group_or_404(kind, slug)
    return page(archive_base(kind, slug))


def taxonomy_paged(kind: str, slug: str, number: int) -> BaseResponse:
    """The archive's older posts: ``page/2/`` the next page_size, and so on."""
    context.group_or_404(kind, slug)
    return _paged(archive_base(kind, slug), number)


def post_page(slug: str) -> BaseResponse:
    snapshot = context.snapshot()
    if slug not in snapshot.catalog.by_slug:
        # a slug the ledger saw change, else an old slug of the config's [redirects] post table (not an id there)
        named = None if slug.isdigit() else context.settings().redirects.get("post", slug)
        moved_to = snapshot.redirects.get(slug) or named or unicodedata.normalize("NFC", slug)  # as macOS types it
        if moved_to is not None and moved_to in snapshot.catalog.by_slug:
            return redirect(post_path(moved_to), 301)
        abort(410 if slug in snapshot.gone.posts else 404)  # a deleted post is gone, not unknown
    return page(post_path(slug))


def page(path: str) -> BaseResponse:
    """A page from the snapshot, rendered by its reload (what the Pages handler did not answer: a query string)."""
    found = context.snapshot().pages.by_path.get(path)
    if found is None:
        abort(404)
    return answered(*answer_page(request.environ, found))


def _paged(base: str, number: int) -> BaseResponse:
    """Page ``number`` of an archive: page 1 redirects to the archive's first page, one past the last is 404."""
    path = page_path(base, number)
    if number == 1 or (path != request.path and path in context.snapshot().pages.by_path):
        return redirect(path, 301)  # page/1/ (or page/02/) -> the page's one address
    return page(path)


def answered(status: str, headers: list[tuple[str, str]], body: Iterable[bytes]) -> Response:
    """A page's answer as a Flask response (its own Content-Length: a HEAD's body is empty)."""
    response = Response(b"".join(body), status=status)
    for name, value in headers:
        response.headers[name] = value
    return response


def healthz() -> Response:
    """The service's state: starting, ok or degraded, with the public problems of the last reload."""
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
            gone=sorted(stem for stem in snapshot.gone.feeds if not _redirected(stem)),
            next_publish_at=_isoformat(snapshot.catalog.next_publish_at),  # the public one
        )
    if builder.last_error:  # the system's reason, if any, and never a path (the server log has those)
        cause = f" ({builder.last_cause})" if builder.last_cause else ""
        body["error"] = f"the last reload failed{cause}; the server log has the details"
        body["problems"] = [{"path": None, "line": 0, "message": body["error"]}, *body["problems"]]  # first: never cut
    shared = context.shared()
    elsewhere = shared.origins.problems  # feeds that link readers to another site
    if elsewhere:
        body["problems"] = [*body["problems"], *({"path": None, "line": 0, "message": m} for m in elsewhere)]
        body["status"] = "degraded" if body["status"] == "ok" else body["status"]
    if shared.hub is not None:
        body["websub"] = shared.hub.counts()
    if shared.federation is not None:
        body["fediverse"] = shared.federation.counts()
    if shared.following is not None:
        body["email"] = {"queued": shared.following.outbox.waiting()}  # a count: never an address
    for key in ("problems", "gone"):  # the first of a long list, and how long it is (`check` lists every problem)
        if key in body:
            body[f"{key}_total"], body[key] = len(body[key]), body[key][:MAX_LISTED]
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _redirected(stem: str) -> bool:
    """Whether a feed that went is answered by a ``[redirects]`` entry now (a category renamed): not gone to readers."""
    kind, slug = split_stem(stem)
    return bool(slug) and context.settings().redirects.get(kind, slug) is not None


def _isoformat(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
