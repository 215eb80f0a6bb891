"""/stats/: each feed's readers over time, as SVG charts drawn on the server, and the partners' activity.

Only with the ``stats_token`` setting (404 without it), for a request that
presents it: ``Authorization: Bearer <token>``, or as the password of HTTP
Basic, so that a browser can ask for it. No script and no external asset: the
charts are inline SVG, which the site's Content-Security-Policy allows.
"""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime

from flask import Response
from flask import abort
from flask import request

from syndicator.service import stats
from syndicator.service.clients import client_address
from syndicator.service.http import context
from syndicator.service.partners import presents

MAX_CHARTS = 50  # feeds charted, most read first (`syndicator stats` lists them all)
DEFAULT_DAYS, MAX_DAYS = 30, 366


def stats_page() -> Response:
    """The charts, for a request that presents the stats token."""
    shared = context.shared()
    settings, audience = shared.settings, shared.audience
    if not settings.stats_token or audience is None:
        abort(404)
    refused = _refused(settings.stats_token)
    if refused is not None:
        return refused
    days = min(max(request.args.get("days", DEFAULT_DAYS, type=int) or DEFAULT_DAYS, 1), MAX_DAYS)
    today = datetime.now(UTC).date()
    audience.flush()  # the requests of the last seconds too
    feeds = stats.collect(audience.store, today, days)
    window = stats.window(today, days)
    partners = shared.partners
    renderer = shared.builder.pages.renderer
    if renderer is None:
        abort(404)
    following, federation = shared.following, shared.federation
    email = stats.email_rows(following.counts()) if following is not None else None
    followers = federation.counts()["followers"] if federation is not None else None
    body = renderer.render(
        "stats.html",
        **stats.stats_values(feeds, email, partners.partners() if partners is not None else [], followers),
        days=days,
        window=window,
        feeds=[(feed, stats.feed_chart(feed, window)) for feed in feeds[:MAX_CHARTS]],
        more=max(0, len(feeds) - MAX_CHARTS),
        partner_chart=stats.partner_chart(feeds, window),
        when=_when,
    )
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


def _refused(token: str) -> Response | None:
    """401 (or 429 for a client that failed too often) unless the request presents the token."""
    throttle = context.shared().throttle
    address = client_address(request.environ)
    header = request.headers.get("Authorization", "")
    if presents(header, token):  # the right token is always answered: the brake holds back only wrong ones
        throttle.forget(address, header)
        return None
    wait = throttle.wait(address, header) if header else 0.0
    if wait > 0:
        return Response("429: too many failed attempts\n", 429, {"Retry-After": str(math.ceil(wait))}, "text/plain")
    if header:
        throttle.failed(address, header)
    response = Response("401 Unauthorized: /stats/ needs the stats token\n", 401, mimetype="text/plain")
    response.headers.add("WWW-Authenticate", 'Bearer realm="stats"')
    response.headers.add("WWW-Authenticate", 'Basic realm="stats", charset="UTF-8"')
    response.headers["Cache-Control"] = "no-store"
    return response


def _when(moment: float | None) -> str:
    return "never" if moment is None else datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")
