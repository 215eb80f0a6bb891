"""Ask nginx in front and ``serve`` alone the same requests, and say where their answers differ.

An answer is compared by its status, its bytes as sent (a gzip body as
gzip), and the headers readers and caches act on. A conditional request
carries the validator that server itself gave (nginx spells ETags its own
way), so each is asked what a reader of it would ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field

import requests

COMPARED = (
    "Content-Type",
    "Cache-Control",
    "Location",
    "Link",
    "Content-Encoding",
    "Content-Range",
    "Retry-After",
    "Access-Control-Allow-Origin",
    "WWW-Authenticate",
    "CDN-Cache-Control",
    "Surrogate-Key",
)
NGINX_ETAG = re.compile(r'^(W/)?"[0-9a-f]+-[0-9a-f]+"$')  # nginx's own: hex mtime-size (W/ when it compressed)


@dataclass(frozen=True)
class Probe:
    """One request of the matrix: its name, method, path, headers and body; ``validator``: send the ETag
    ("If-None-Match") or Last-Modified ("If-Modified-Since") this server gave for the same path first."""

    name: str
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    validator: str = ""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    etag: str


def ask(base: str, probe: Probe) -> Answer:
    """The answer to one probe, its body as sent (not decompressed)."""
    headers = {"Accept-Encoding": "identity", **probe.headers}
    if probe.validator:
        first = requests.get(base + probe.path, headers={"Accept-Encoding": "identity"}, timeout=10)
        source = "ETag" if probe.validator == "If-None-Match" else "Last-Modified"
        headers[probe.validator] = first.headers[source]
    response = requests.request(
        probe.method,
        base + probe.path,
        headers=headers,
        data=probe.body,
        allow_redirects=False,
        stream=True,
        timeout=10,
    )
    body = response.raw.read(decode_content=False)
    shown = {name: response.headers[name] for name in COMPARED if name in response.headers}
    return Answer(response.status_code, body, shown, response.headers.get("ETag", ""))


def differences(nginx: Answer, serve: Answer) -> list[str]:
    """What differs: "status", "body" or a header's name."""
    found = [] if nginx.status == serve.status else ["status"]
    found += [] if nginx.body == serve.body else ["body"]
    return found + [name for name in COMPARED if nginx.headers.get(name) != serve.headers.get(name)]


def compare(nginx: str, serve: str, probe: Probe, tries: int = 3) -> tuple[Answer, Answer, list[str]]:
    """Both answers to a probe and their differences (asked again while they differ: a reload may fall between)."""
    for _attempt in range(tries):
        first, second = ask(nginx, probe), ask(serve, probe)
        found = differences(first, second)
        if not found:
            break
    return first, second, found


def matrix_line(probe: Probe, nginx: Answer, serve: Answer, found: list[str], allowed: dict[str, str]) -> str:
    """One row of the matrix as text: the probe, both statuses, who answered through nginx, what differs."""
    who = "nginx" if NGINX_ETAG.match(nginx.etag) else "app"
    verdict = "equal" if not found else "; ".join(f"{f}: {allowed.get(f, 'NOT ALLOWED')}" for f in found)
    return f"{probe.name:<34} {probe.method:<5} {probe.path:<44} {nginx.status:>3} {serve.status:>3} {who:<5} {verdict}"
