"""Lines of nginx's "combined" access log format, read into the fields reader counts need. No I/O.

``$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
"$http_referer" "$http_user_agent"`` (nginx writes a ``"`` inside a field as ``\\x22``). varnishncsa's
default format is the same, its request line naming the whole URL (``GET http://host/feeds/all.atom``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from urllib.parse import unquote
from urllib.parse import urlsplit

_LINE = re.compile(
    r'(?P<address>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<target>\S+)(?: [^"]*)?" '
    r'(?P<status>\d{3}) \S+ "[^"]*" "(?P<agent>[^"]*)"'
)


@dataclass(frozen=True, slots=True)
class Request:
    """One request of the log."""

    address: str
    when: datetime  # UTC
    method: str
    path: str  # without its query, percent-decoded
    status: int
    agent: str


def parse_line(line: str) -> Request | None:
    """The request one log line records; None when the line is not in the combined format.

    A time that is no date, or that leaves the calendar once moved to UTC
    (``31/Dec/9999:23:59:59 -1400``), makes the line one that is not.
    """
    match = _LINE.match(line)
    if match is None:
        return None
    try:
        when = datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    target = match["target"]
    if target.startswith(("http://", "https://")):  # the absolute form: a proxy's log (varnishncsa)
        target = urlsplit(target).path or "/"
    path = unquote(target.partition("?")[0], errors="replace")
    agent = match["agent"].replace("\\x22", '"')
    return Request(match["address"], when, match["method"], path, int(match["status"]), agent)
