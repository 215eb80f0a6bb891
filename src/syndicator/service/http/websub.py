"""POST /websub: the built-in hub's subscribe and unsubscribe requests, read with bounded bodies and slots."""

from __future__ import annotations

import io

from flask import Response
from flask import abort
from flask import request
from werkzeug.formparser import FormDataParser
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import get_input_stream

from syndicator.core.urls import file_url
from syndicator.service.http import context
from syndicator.service.hub import HubRequestError

WEBSUB_MAX_BODY = 64 * 1024  # bytes of a POST /websub body; a longer one is answered 413
WEBSUB_SLOTS = 4  # POST /websub requests handled at once; cli.serve_http adds as many request threads for them


def websub() -> BaseResponse:
    """WebSub subscribe/unsubscribe: 202 at once, verification of intent later; 4xx with the reason.

    A body over WEBSUB_MAX_BODY is refused before it is read (413); at most
    WEBSUB_SLOTS requests read their bodies at once (503 beyond), so slow
    bodies never hold the threads that answer feeds.
    """
    shared = context.shared()
    hub = shared.hub
    if hub is None:
        abort(404)
    too_large = f"a WebSub request body is at most {WEBSUB_MAX_BODY} bytes\n"
    if (request.content_length or 0) > WEBSUB_MAX_BODY:
        return Response(too_large, status=413, mimetype="text/plain")
    with context.slot(shared.websub_slots) as free:
        if not free:
            return context.busy("too many subscription requests at once: try again shortly\n")
        # read at most one byte past the limit: that tells a chunked body over it
        body = get_input_stream(request.environ, max_content_length=WEBSUB_MAX_BODY + 1).read()
    if len(body) > WEBSUB_MAX_BODY:
        return Response(too_large, status=413, mimetype="text/plain")
    _, fields, _ = FormDataParser().parse(io.BytesIO(body), request.mimetype, len(body), request.mimetype_params)
    form = fields.to_dict()
    topics = (file_url(shared.settings, path) for path in context.snapshot().report.topics)
    try:
        hub.request(form, topics)
    except HubRequestError as exc:
        return Response(f"{exc}\n", status=exc.status, mimetype="text/plain")
    return Response("Accepted: verification of intent follows\n", status=202, mimetype="text/plain")
