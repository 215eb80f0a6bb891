"""A line of nginx's combined access log, read into a request (SPEC "Audience"); anything else is no request."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from syndicator.core.accesslog import parse_line


def test_access_log_lines_in_the_combined_format() -> None:
    """nginx's combined format: address, time (to UTC), request, status, agent; anything else is None."""
    line = (
        '203.0.113.9 - - [10/Oct/2026:23:55:36 -0700] "GET /feeds/all.atom?x=1 HTTP/1.1" 304 0 "-" '
        '"Mozilla/5.0 (compatible; inoreader.com; 7 subscribers)"'
    )
    request = parse_line(line)
    assert request is not None
    assert (request.address, request.method, request.path, request.status) == (
        "203.0.113.9",
        "GET",
        "/feeds/all.atom",
        304,
    )
    assert request.when == datetime(2026, 10, 11, 6, 55, 36, tzinfo=UTC)
    assert request.agent.endswith("7 subscribers)")
    assert parse_line("garbage") is None and parse_line(line.replace("Oct", "Foo")) is None
    assert parse_line(line.replace('"Mozilla', '"a \\x22quoted\\x22 Mozilla')).agent.startswith('a "quoted"')  # type: ignore[union-attr]
