"""WebSub over a real server (SPEC "WebSub"): `serve` verifies a subscriber, pushes an edit signed and a deletion's
tombstone (never a partner post's), keeps subscriptions across a restart and refuses an oversized callback."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from support.feedcheck import check_atom
from support.subscriber import Subscriber

AT = "{http://purl.org/atompub/tombstones/1.0}"


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    yield sub
    sub.close()


def test_websub_end_to_end_with_a_real_server(
    start_server: Callable[..., object], tmp_path: Path, subscriber: Subscriber
) -> None:
    """serve + POST /websub -> verified; an edit reaches the subscriber within seconds, signed; restart keeps it."""
    posts = tmp_path / "posts"
    posts.mkdir()
    post = posts / "a.md"
    post.write_text("---\ntitle: Original\ndate: 2025-01-01\ncategories: [News]\n---\nBody.\n")
    env = {"SYNDICATOR_RELOAD_INTERVAL": "1", "SYNDICATOR_WEBSUB_ALLOW_PRIVATE": "true"}
    server = start_server(tmp_path, **env)
    topic = server.url + "/feeds/category/news.atom"
    refused = requests.post(server.url + "/websub", data={"hub.mode": "subscribe", "hub.topic": "x"}, timeout=10)
    assert refused.status_code == 400 and "not a feed" in refused.text
    answer = requests.post(
        server.url + "/websub",
        data={"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": subscriber.url, "hub.secret": "k"},
        timeout=10,
    )
    assert answer.status_code == 202
    server.wait_until(lambda: server.get("/healthz").json()["websub"]["subscriptions"] == 1, what="verification")
    post.write_text("---\ntitle: Edited title\ndate: 2025-01-01\ncategories: [News]\n---\nBody.\n")
    assert subscriber.wait_for(lambda: any(b"Edited title" in p.body for p in subscriber.posts()), timeout=15)
    delivery = next(p for p in subscriber.posts() if b"Edited title" in p.body)
    assert delivery.headers["X-Hub-Signature"] == "sha256=" + hmac.new(b"k", delivery.body, hashlib.sha256).hexdigest()
    assert delivery.body == server.get("/feeds/category/news.atom").content
    (tmp_path / "delivery.txt").write_text("\n".join(f"{k}: {v}" for k, v in delivery.headers.items()))
    server.stop()
    again = start_server(tmp_path, **env)
    assert again.get("/healthz").json()["websub"]["subscriptions"] == 1


def test_a_long_callback_is_refused_by_the_real_server(
    start_server: Callable[..., Any], tmp_path: Path, subscriber: Subscriber
) -> None:
    """POST /websub with a 60 KB callback is answered 400 with the reason, and stores nothing."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\n---\nBody.\n")
    server = start_server(tmp_path, SYNDICATOR_WEBSUB_ALLOW_PRIVATE="true")
    form = {"hub.mode": "subscribe", "hub.topic": server.url + "/feeds/all.atom"}
    answer = requests.post(
        server.url + "/websub", data={**form, "hub.callback": subscriber.url + "?" + "x" * 60_000}, timeout=10
    )
    assert answer.status_code == 400 and "longer than 2048 bytes" in answer.text
    time.sleep(0.3)
    assert server.get("/healthz").json()["websub"]["subscriptions"] == 0
    assert subscriber.received == []


def tombstones(body: bytes) -> list[tuple[str, str]]:
    return [(e.get("ref"), e.get("when")) for e in etree.fromstring(body).iter(f"{AT}deleted-entry")]


def test_websub_subscribers_receive_the_tombstone(
    start_server: Callable[..., Any], tmp_path: Path, subscriber: Subscriber
) -> None:
    """A real server and subscriber: deleting a post pushes the feed that carries its tombstone."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text("---\ntitle: A\ndate: 2025-06-01\n---\nA.\n")
    (posts / "b.md").write_text("---\ntitle: B\ndate: 2025-06-02\n---\nB.\n")
    server = start_server(tmp_path, SYNDICATOR_WEBSUB_ALLOW_PRIVATE="true")
    topic = f"{server.url}/feeds/all.atom"
    form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": subscriber.url}
    assert requests.post(server.url + "/websub", data=form, timeout=10).status_code == 202
    server.wait_until(lambda: server.get("/healthz").json()["websub"]["subscriptions"] == 1, what="subscription")
    (posts / "a.md").unlink()
    server.wait_until(lambda: any(b"deleted-entry" in d.body for d in subscriber.posts()), what="delivery")
    delivered = next(d.body for d in subscriber.posts() if b"deleted-entry" in d.body)
    check_atom(delivered)
    assert len(tombstones(delivered)) == 1
    assert server.get("/posts/a/").status_code == 410


def test_websub_subscribers_never_hear_of_a_deleted_partner_post(
    start_server: Callable[..., Any], tmp_path: Path, subscriber: Subscriber
) -> None:
    """A real server and subscriber: deleting a post for partners only pushes nothing; the next public change's
    push carries no tombstone."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text("---\ntitle: A\ndate: 2025-06-01\n---\nA.\n")
    (posts / "brief.md").write_text("---\ntitle: Zebra\ndate: 2025-06-02\nvisibility: partners\n---\nQuagga.\n")
    server = start_server(tmp_path, SYNDICATOR_WEBSUB_ALLOW_PRIVATE="true", SYNDICATOR_RELOAD_INTERVAL="1")
    form = {"hub.mode": "subscribe", "hub.topic": f"{server.url}/feeds/all.atom", "hub.callback": subscriber.url}
    assert requests.post(server.url + "/websub", data=form, timeout=10).status_code == 202
    server.wait_until(lambda: server.get("/healthz").json()["websub"]["subscriptions"] == 1, what="subscription")
    (posts / "brief.md").unlink()
    deleted = datetime.now(UTC)

    def reloaded() -> bool:
        return datetime.fromisoformat(server.get("/healthz").json()["loaded_at"]) > deleted

    server.wait_until(reloaded, what="a reload that saw the deletion")
    (posts / "a.md").write_text("---\ntitle: A, edited\ndate: 2025-06-01\n---\nA.\n")
    server.wait_until(lambda: any(b"A, edited" in d.body for d in subscriber.posts()), what="delivery")
    assert [b"A, edited" in d.body for d in subscriber.posts()] == [True]
    assert all(b"deleted-entry" not in d.body and b"brief" not in d.body for d in subscriber.posts())
    assert server.get("/posts/brief/").status_code == 404


def test_a_change_built_while_serve_was_stopped_reaches_the_subscribers(
    start_server: Callable[..., Any], tmp_path: Path, subscriber: Subscriber, run_cli: Callable[..., Any]
) -> None:
    """serve stopped, a post edited, `syndicator build` run: the feeds changed with nobody told, and the next serve
    found nothing new to push (a walk of an upgrade: check, build, serve). The build queues the changed feeds for
    the hub's subscribers; the next serve sends them once it has loaded."""
    posts = tmp_path / "posts"
    posts.mkdir()
    post = posts / "a.md"
    post.write_text("---\ntitle: Original\ndate: 2025-01-01\ncategories: [News]\n---\nBody.\n")
    env = {"SYNDICATOR_WEBSUB_ALLOW_PRIVATE": "true"}
    server = start_server(tmp_path, **env)
    topic = server.url + "/feeds/category/news.atom"
    subscribe = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": subscriber.url}
    assert requests.post(server.url + "/websub", data=subscribe, timeout=10).status_code == 202
    server.wait_until(lambda: server.get("/healthz").json()["websub"]["subscriptions"] == 1, what="verification")
    server.stop()
    post.write_text("---\ntitle: Edited while stopped\ndate: 2025-01-01\ncategories: [News]\n---\nBody.\n")
    built = run_cli("build", env={**env, "SYNDICATOR_SITE_URL": server.url})  # the config file serve reads too
    assert built.returncode == 0 and "websub deliveries queued for serve=1" in built.stderr, built.stderr
    assert not [p for p in subscriber.posts() if b"Edited while stopped" in p.body]
    again = start_server(tmp_path, port=server.port, **env)
    assert subscriber.wait_for(lambda: any(b"Edited while stopped" in p.body for p in subscriber.posts()), timeout=20)
    delivery = next(p for p in subscriber.posts() if b"Edited while stopped" in p.body)
    assert delivery.body == again.get("/feeds/category/news.atom").content


def test_a_build_with_no_serve_pings_the_external_hub(
    tmp_path: Path, subscriber: Subscriber, run_cli: Callable[..., Any]
) -> None:
    """With websub_hub set and no builder running (feeds served by nginx alone), `build` pinged nobody: the hub
    never heard of a change. It pings the hub for each feed that changed before it exits; nothing when none did."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\ncategories: [News]\n---\nBody.\n")
    env = {"SYNDICATOR_WEBSUB_HUB": subscriber.url, "SYNDICATOR_WEBSUB_ALLOW_PRIVATE": "true"}
    assert run_cli("build", env=env).returncode == 0
    pinged = {p.body.decode() for p in subscriber.posts()}
    assert "hub.mode=publish&hub.url=http%3A%2F%2F127.0.0.1%3A8000%2Ffeeds%2Fcategory%2Fnews.atom" in pinged
    before = len(subscriber.posts())
    assert run_cli("build", env=env).returncode == 0
    assert len(subscriber.posts()) == before
