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


def test_a_varnishncsa_line_names_the_whole_url() -> None:
    """varnishncsa's default format is the combined one with the request's absolute URL: its path is the feed."""
    line = (
        '127.0.0.21 - - [08/Dec/2026:01:09:51 +0000] "GET http://127.0.0.1:19710/feeds/category/borders.rss?a=1 '
        'HTTP/1.1" 200 7956 "-" "NcsaReader/1.0"'
    )
    request = parse_line(line)
    assert request is not None and (request.address, request.path) == ("127.0.0.21", "/feeds/category/borders.rss")
    assert parse_line(line.replace("http://127.0.0.1:19710/feeds/category/borders.rss?a=1", "https://h")).path == "/"  # type: ignore[union-attr]
