"""Hostile input at the inboxes: unsigned, badly signed, stale, oversized, private keys, slow or huge documents,
follow floods. Each is refused and changes nothing; the feeds keep being answered."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import threading
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from bovine.crypto import generate_rsa_public_private_key
from cryptography.hazmat.primitives import serialization
from http_message_signatures import HTTPMessageSigner
from http_message_signatures import HTTPSignatureKeyResolver
from http_message_signatures import algorithms

from support.factories import NOW
from support.fediremote import RemoteServer
from support.fedisite import Site
from support.fedisite import fediverse_sites
from support.stalling import StallingHost
from syndicator.config import Settings
from syndicator.service.federation import Tuning
from syndicator.service.inbox import FollowLimits


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    server = RemoteServer()
    yield server
    server.close()


@pytest.fixture
def make_site(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> Iterator[Callable[..., Site]]:
    write_post("a.md", title="A", categories="[Alpha]")
    with fediverse_sites(make_settings, NOW) as make:
        yield make


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


def unchanged(site: Site) -> bool:
    """Nobody follows and nothing waits to be sent."""
    return site.federation.followers.count() == 0 and site.federation.queue.pending() == 0


def test_an_activity_of_another_media_type_is_refused(site: Site, remote: RemoteServer) -> None:
    """An inbox takes activities as JSON only: text/plain is answered 415 (the testsuite's media type rule)."""
    follow = {"type": "Follow", "id": f"{remote.actor_id}#f", "actor": remote.actor_id, "object": site.actor("alpha")}
    headers = {"Content-Type": "text/plain"}
    answer = requests.post(f"{site.url}/ap/inbox", data=json.dumps(follow), headers=headers, timeout=10)
    assert answer.status_code == 415 and unchanged(site)


def test_an_unsigned_follow_is_refused(site: Site, remote: RemoteServer) -> None:
    """No Signature: 401, and no key is fetched."""
    follow = {"type": "Follow", "id": f"{remote.actor_id}#f", "actor": remote.actor_id, "object": site.actor("alpha")}
    answer = requests.post(f"{site.actor('alpha')}/inbox", json=follow, timeout=10)
    assert answer.status_code == 401 and "not signed" in answer.text
    assert unchanged(site) and remote.fetches == []


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"private_pem": generate_rsa_public_private_key()[1]}, id="another-key"),
        pytest.param({"body": b'{"type": "Follow", "actor": "x", "object": "y"}'}, id="body-changed"),
    ],
)
def test_a_badly_signed_follow_is_refused(site: Site, remote: RemoteServer, tamper: dict[str, Any]) -> None:
    """Signed with a key that is not the actor's, or a body other than the one signed: 401."""
    _, answer = remote.follow(site.actor("alpha"), **tamper)
    assert answer.status_code == 401, answer.text
    assert unchanged(site)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"key_id": "http://[::1/x#main-key"}, id="key-id"),
        pytest.param({"actor": "http://[::1/users/x"}, id="actor"),
    ],
)
def test_a_follow_naming_a_url_that_cannot_be_read_is_refused(
    site: Site, remote: RemoteServer, changes: dict[str, str]
) -> None:
    """A keyId or actor that is no URL (an IPv6 host never closed: ``http://[::1/x``): 401, as any key that cannot
    be fetched, never a 500."""
    _, answer = remote.follow(site.actor("alpha"), **changes)
    assert answer.status_code == 401, answer.text
    assert unchanged(site) and remote.fetches == []


@pytest.mark.parametrize("hours", [-13, 13])
def test_a_stale_follow_is_refused(site: Site, remote: RemoteServer, hours: int) -> None:
    """A Date more than 12 h from now (before or after): 401, however well it is signed."""
    date = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours), usegmt=True)
    _, answer = remote.follow(site.actor("alpha"), date=date)
    assert answer.status_code == 401 and "12 h" in answer.text
    assert unchanged(site)


def test_an_oversized_activity_is_refused_before_it_is_read(site: Site, remote: RemoteServer) -> None:
    """Over 64 KiB: 413 by Content-Length, and 413 for a chunked body that runs past it."""
    big = {"type": "Follow", "actor": remote.actor_id, "object": site.actor("alpha"), "pad": "x" * 70_000}
    _, answer = remote.follow(site.actor("alpha"), body=json.dumps(big).encode())
    assert answer.status_code == 413
    chunks = iter([b"{" + b" " * 40_000, b" " * 40_000 + b"}"])
    headers = {"Content-Type": "application/activity+json"}
    chunked = requests.post(f"{site.url}/ap/inbox", data=chunks, headers=headers, timeout=10)
    assert chunked.status_code == 413
    assert unchanged(site)


def test_a_key_on_a_private_address_is_not_fetched(make_site: Callable[..., Site], remote: RemoteServer) -> None:
    """Without fediverse_allow_private, a keyId on loopback is refused before any connection: 401."""
    site = make_site(fediverse_allow_private=False)
    _, answer = remote.follow(site.actor("alpha"))
    assert answer.status_code == 401 and "not a public address" in answer.text
    assert remote.fetches == [] and unchanged(site)


def test_an_oversized_actor_document_is_refused(site: Site) -> None:
    """A key's document over 256 KiB: 401 (read no further than the cap)."""
    huge = RemoteServer(padding=300_000)
    try:
        _, answer = huge.follow(site.actor("alpha"))
    finally:
        huge.close()
    assert answer.status_code == 401 and "larger than" in answer.text
    assert unchanged(site)


def test_a_hanging_key_server_holds_no_feed_request(make_site: Callable[..., Site], remote: RemoteServer) -> None:
    """While an inbox request waits for a key server that never answers, feeds are answered; the inbox gives up."""
    site = make_site(Tuning(fetch_deadline=3.0))
    stalling = StallingHost("hang")
    actor = f"{stalling.url}/users/x"
    answers: list[requests.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(remote.follow(site.actor("alpha"), actor=actor, key_id=f"{actor}#main-key")[1])
    )
    try:
        waiting.start()
        assert remote.wait_for(lambda: stalling.accepted > 0, timeout=10)
        feed = requests.get(f"{site.url}/feeds/all.atom", timeout=10)
        assert feed.status_code == 200
        assert waiting.is_alive()  # the inbox request still waits for the key, on a thread of its own
        waiting.join(20)
    finally:
        stalling.close()
    assert answers[0].status_code == 401 and "deadline" in answers[0].text
    assert unchanged(site)


def test_follows_are_capped_per_host(make_site: Callable[..., Site]) -> None:
    """Past the cap of follows from one host, a Follow is answered 429 and adds nobody."""
    site = make_site(Tuning(retry_base=0.2, follows=FollowLimits(per_host=2)))
    crowd = RemoteServer(names=("a", "b", "c"))
    try:
        statuses = [crowd.follow(site.actor("alpha"), name=name)[1].status_code for name in ("a", "b", "c")]
        again = crowd.follow(site.actor("alpha"), name="a")[1].status_code  # a renewal adds nobody: still accepted
    finally:
        crowd.close()
    assert statuses == [202, 202, 429] and again == 202
    assert site.federation.followers.count() == 2


def test_a_follow_of_no_account_changes_nothing(site: Site, remote: RemoteServer) -> None:
    """A Follow of an account that does not exist: 404, nobody added."""
    _, answer = remote.follow(f"{site.url}/ap/actors/nope", inbox=f"{site.url}/ap/inbox")
    assert answer.status_code == 404
    assert unchanged(site)


class _Key(HTTPSignatureKeyResolver):
    def __init__(self, pem: str) -> None:
        self.key = serialization.load_pem_private_key(pem.encode(), password=None)

    def resolve_private_key(self, key_id: str) -> Any:
        return self.key


class _Request:
    def __init__(self, url: str, body: bytes) -> None:
        self.method, self.url = "POST", url
        self.headers: dict[str, str] = {"Content-Type": "application/activity+json"}
        self.body = body


def rfc9421_follow(site: Site, remote: RemoteServer, *, created: dt.datetime | None = None) -> _Request:
    """A Follow signed the RFC 9421 way (method, target URI and Content-Digest covered), by the remote's key."""
    actor = remote.actor_id
    follow = {"type": "Follow", "id": f"{actor}#9421", "actor": actor, "object": site.actor("alpha")}
    request = _Request(f"{site.actor('alpha')}/inbox", json.dumps(follow).encode())
    signer = HTTPMessageSigner(signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=_Key(remote.private_pem))
    signer.sign(
        request,
        key_id=f"{remote.actor_id}#main-key",
        created=created or dt.datetime.now(dt.UTC),
        covered_component_ids=("@method", "@target-uri"),
        body=request.body,
    )
    return request


def test_an_rfc9421_follow_is_accepted(site: Site, remote: RemoteServer) -> None:
    """RFC 9421 signatures are accepted too: the Accept follows."""
    request = rfc9421_follow(site, remote)
    answer = requests.post(request.url, data=request.body, headers=request.headers, timeout=10)
    assert answer.status_code == 202, answer.text
    assert site.pump(lambda: bool(remote.activities("Accept")))


def test_a_tampered_or_stale_rfc9421_follow_is_refused(site: Site, remote: RemoteServer) -> None:
    """RFC 9421: a body that is not the digested one, or a signature created 13 h ago: 401."""
    request = rfc9421_follow(site, remote)
    tampered = requests.post(request.url, data=request.body + b" ", headers=request.headers, timeout=10)
    assert tampered.status_code == 401
    fetched = len(remote.fetches)
    stale = rfc9421_follow(site, remote, created=dt.datetime.now(dt.UTC) - dt.timedelta(hours=13))
    answer = requests.post(stale.url, data=stale.body, headers=stale.headers, timeout=10)
    assert answer.status_code == 401 and "12 h" in answer.text
    assert len(remote.fetches) == fetched  # refused before its key was asked for
    assert unchanged(site)
