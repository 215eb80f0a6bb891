"""Hostile clients against a real `syndicator serve`: huge and slow bodies, stalled headers, a dying worker."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from support.server import Server
from support.stalling import closed_by_server
from support.stalling import partial_request
from support.stalling import status_of
from support.stalling import turned_away
from syndicator.service.http.websub import WEBSUB_MAX_BODY
from syndicator.service.http.websub import WEBSUB_SLOTS
from syndicator.service.server import HEADER_READ_TIMEOUT_MS

STALLED_CONNECTIONS = 2100  # more than granian's default 1024 connections plus a 1024 backlog


def websub_head(port: int, length: int | None) -> bytes:
    """The head of a POST /websub (chunked when length is None)."""
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return (
        f"POST /websub HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n"
    ).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that leave it running as they found it."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "posts").mkdir()
    (root / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\ncategories: [News]\n---\nBody.\n")
    server = Server(root, {"SYNDICATOR_WEBSUB_ALLOW_PRIVATE": "true"})
    yield server
    server.stop()


def feed_is_answered(server: Server) -> bool:
    return requests.get(server.url + "/feeds/all.atom", timeout=10).status_code == 200


def post_websub(server: Server) -> requests.Response:
    """A small, bad subscription request (400 when it is read)."""
    return requests.post(server.url + "/websub", data={"hub.mode": "x"}, timeout=10)


@pytest.mark.parametrize("length", [WEBSUB_MAX_BODY + 1, 1_500_000_000])
def test_a_websub_body_over_64_kib_is_refused_before_it_is_read(server: Server, length: int) -> None:
    """POST /websub announcing more than 64 KiB is answered 413 at once, from its headers alone; the server lives on."""
    sock = partial_request(server.port, websub_head(server.port, length), b"hub.mode=subscribe&")
    with sock:
        assert status_of(sock) == 413
    assert feed_is_answered(server)


def test_a_chunked_websub_body_is_cut_past_64_kib(server: Server) -> None:
    """A chunked POST /websub is read only to just past 64 KiB, then answered 413."""
    sock = partial_request(server.port, websub_head(server.port, None))
    with sock:
        chunk = b"x" * 8192
        for _ in range(WEBSUB_MAX_BODY // len(chunk) + 1):  # one chunk more than the limit; the body never ends
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        assert status_of(sock) == 413
    small = requests.post(server.url + "/websub", data={"hub.mode": "x" * 1000}, timeout=10)
    assert small.status_code == 400  # a body within the limit is read and answered as usual
    assert feed_is_answered(server)


def test_feeds_are_answered_while_slow_bodies_hold_connections(server: Server) -> None:
    """Twice as many stalled POST /websub bodies as there are slots: feeds and pages are still answered."""
    stalled = [
        partial_request(server.port, websub_head(server.port, 1000), b"hub.mode=sub") for _ in range(2 * WEBSUB_SLOTS)
    ]
    try:
        # The slow bodies take every slot and the others are turned away at once (no other request meanwhile:
        # one sent now could take a slot for a moment and leave a slow body turned away in its place).
        assert len(turned_away(stalled, WEBSUB_SLOTS, server.wait_until)) == WEBSUB_SLOTS
        # Every slot is held by a slow body: one more POST /websub is turned away at once.
        server.wait_until(lambda: post_websub(server).status_code == 503, what="all the slots held")
        assert post_websub(server).headers["Retry-After"] == "5"
        for _ in range(3):
            assert feed_is_answered(server)
        assert requests.get(server.url + "/", timeout=10).status_code == 200
        assert server.get("/healthz").status_code == 200
    finally:
        for sock in stalled:
            sock.close()
    server.wait_until(lambda: post_websub(server).status_code == 400, what="the slots freed by the slow clients")


def test_a_stalled_or_idle_connection_is_dropped_after_the_header_timeout(server: Server) -> None:
    """A connection that sends half a header, or nothing at all, is closed once the header timeout passes."""
    half = partial_request(server.port, b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\n")
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    with half, idle:
        timeout = HEADER_READ_TIMEOUT_MS / 1000 + 10
        assert closed_by_server(half, timeout)
        assert closed_by_server(idle, 5)


def test_feeds_are_answered_while_thousands_of_connections_stall(server: Server) -> None:
    """2,100 connections holding one partial header line each do not lock out a feed reader."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < STALLED_CONNECTIONS + 500:
        if hard != resource.RLIM_INFINITY and hard < STALLED_CONNECTIONS + 500:
            pytest.skip(f"needs {STALLED_CONNECTIONS + 500} open files, the limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (STALLED_CONNECTIONS + 500, hard))
    stalled: list[socket.socket] = []
    try:
        for _ in range(STALLED_CONNECTIONS):
            stalled.append(partial_request(server.port, b"GET / HTTP/1.1\r\n"))
        assert requests.get(server.url + "/feeds/all.atom", timeout=5).status_code == 200
    finally:
        for sock in stalled:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def worker_pids(server: Server) -> list[int]:
    """The processes granian started for the server (its workers)."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def test_a_worker_that_dies_is_started_again(start_server: Callable[..., Server], tmp_path: Path) -> None:
    """When the worker process dies (as it did on a failed allocation), granian starts a new one."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\n---\nBody.\n")
    server = start_server(tmp_path)
    (worker,) = worker_pids(server)
    os.kill(worker, signal.SIGKILL)
    with contextlib.suppress(requests.ConnectionError):
        server.get("/healthz")
    server.wait_until(lambda: worker_pids(server) not in ([], [worker]), what="a new worker")
    server.wait_until(lambda: server.get("/feeds/all.atom").status_code == 200, what="feeds from the new worker")
