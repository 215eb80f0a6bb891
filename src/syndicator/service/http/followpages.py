"""The web side of following by email: POST /subscribe, the confirmation link, the unsubscribe link.

``/confirm/<token>`` and ``/unsubscribe/<token>`` answer a GET with a page
and a button, changing nothing (mail scanners fetch the links of the mails
they pass), and a POST (the button; RFC 8058's one-click) by confirming or
unsubscribing at once. Answers are the site's pages, never cached,
sending no Referer (the links carry tokens). Without smtp_url, all are 404.
"""

from __future__ import annotations

import io
import math
from typing import Any

from flask import Response
from flask import abort
from flask import request
from werkzeug.formparser import FormDataParser
from werkzeug.wsgi import get_input_stream

from syndicator.core.mailmessage import PACE_WORDS
from syndicator.service.clients import client_address
from syndicator.service.following import ACCEPTED
from syndicator.service.following import BAD_ADDRESS
from syndicator.service.following import BAD_FEED
from syndicator.service.following import BUSY
from syndicator.service.following import Following
from syndicator.service.http import context

MAX_BODY = 4096  # bytes of a subscribe request's body; a longer one is answered 413
SUBSCRIBE_SLOTS = 4  # POST /subscribe bodies read at once (503 beyond); serve adds as many request threads for them
HONEYPOT = "website"  # the form's field that people never see, and bots fill in
_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
_REFUSED = {
    BAD_ADDRESS: ("Not an email address", "That is not an address mail can be sent to: check it and try again."),
    BAD_FEED: ("No such feed", "This site publishes no such category, tag or author to follow."),
}
_BAD_PACE = ("No such pace", "Choose to receive each new post, a daily digest or a weekly digest.")


def _following() -> Following:
    following = context.shared().following
    if following is None:
        abort(404)
    return following


def _page(status: int, title: str, lines: list[str], **extra: Any) -> Response:
    renderer = context.builder().pages.renderer
    if renderer is None:
        abort(404)
    values = {"title": title, "lines": lines, "button": None} | extra
    body = renderer.render("email.html", **values)
    return Response(body, status=status, mimetype="text/html", headers=_HEADERS)


def _what(pace: str) -> str:
    return PACE_WORDS.get(pace, "each new post")


def subscribe() -> Response:
    """The subscribe form's POST: email, feed, pace (and the honeypot)."""
    following = _following()
    wait = following.requests.wait(client_address(request.environ))
    if wait > 0:
        retry = {"Retry-After": str(math.ceil(wait))}
        return Response("429 Too Many Requests: try again in a minute\n", 429, retry, mimetype="text/plain")
    with context.slot(context.shared().subscribe_slots) as free:
        if not free:
            return context.busy("503: too many subscribe requests at once: try again shortly\n")
        form = _form()
    if form is None:
        return Response(f"413: a subscribe request is at most {MAX_BODY} bytes\n", 413, mimetype="text/plain")
    catalog = context.snapshot().catalog
    asked = following.subscribe(
        form.get("email", ""), form.get("feed", ""), form.get("pace", ""), catalog, trap=bool(form.get(HONEYPOT))
    )
    if asked.outcome == BUSY:
        retry = {"Retry-After": str(math.ceil(asked.retry))}
        message = "503 Service Unavailable: this site's confirmation mails for this hour are all sent: try later\n"
        return Response(message, 503, retry, mimetype="text/plain")
    if asked.outcome != ACCEPTED:
        title, line = _REFUSED.get(asked.outcome, _BAD_PACE)
        return _page(400, title, [line])
    lines = [
        "A mail with a confirmation link is on its way to the address you gave, unless its mailbox was sent three"
        " already today.",
        f"Follow that link within 48 hours to receive {_what(asked.pace)} of {asked.feed_name}."
        " Nothing else is sent to the address until then.",
    ]
    return _page(200, "Check your inbox", lines)


def _form() -> dict[str, str] | None:
    """The request's form fields (None: the body is over MAX_BODY)."""
    if (request.content_length or 0) > MAX_BODY:
        return None
    body = get_input_stream(request.environ, max_content_length=MAX_BODY + 1).read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return None
    parser = FormDataParser(max_form_memory_size=MAX_BODY, max_form_parts=20)
    _, fields, _ = parser.parse(io.BytesIO(body), request.mimetype, len(body), request.mimetype_params)
    return {name: fields.get(name, "") for name in ("email", "feed", "pace", HONEYPOT)}


def confirm(token: str) -> Response:
    """GET: a page with a Confirm button, nothing changed; POST (the button): the subscription starts.

    Following the link again, or pressing the button twice, changes nothing more.
    """
    following = _following()
    act = request.method == "POST"
    asked = following.confirm(token, context.snapshot().catalog, act=act)
    if asked is None:
        lines = ["This confirmation link is not valid, or is more than 48 hours old. Subscribe again from the site."]
        return _page(400, "Link not valid", lines)
    what = f"{_what(asked.pace)} of {asked.feed_name}"
    if asked.confirmed:
        return _page(200, "Subscribed", [f"You will receive {what} by email."])
    button = {"action": f"{context.settings().base_url}/confirm/{token}", "label": "Confirm"}
    return _page(200, "Confirm your subscription", [f"Receive {what} by email at this address?"], button=button)


def unsubscribe(token: str) -> Response:
    """GET: a page with a button, nothing changed; POST: unsubscribed at once (RFC 8058 one-click)."""
    following = _following()
    act = request.method == "POST"
    name = following.unsubscribe(token, context.snapshot().catalog, act=act)
    if name is None:
        return _page(400, "Link not valid", ["This unsubscribe link is not valid: it may have been cut short."])
    if act:
        return _page(200, "Unsubscribed", [f"No more mail of {name} will be sent to this address."])
    button = {"action": f"{context.settings().base_url}/unsubscribe/{token}", "label": "Unsubscribe"}
    return _page(200, "Unsubscribe?", [f"Stop receiving mail of {name}?"], button=button)
