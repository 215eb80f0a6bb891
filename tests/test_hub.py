"""The WebSub hub: subscription, verification of intent, signed delivery, retries, 410, safety, restarts."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from conftest import NOW
from feedcheck import ATOM
from subscriber import Subscriber
from syndicator.build import Builder
from syndicator.config import Settings
from syndicator.hub import Hub
from syndicator.hub import HubRequestError
from syndicator.schedule import deliver
from syndicator.schedule import run_reload
from syndicator.web import create_app

TOPIC = "https://example.org/feeds/all.atom"


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    yield sub
    sub.close()


@pytest.fixture
def site(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> Settings:
    write_post("a.md", title="A", categories="[One]")
    return make_settings(websub_allow_private=True)


@pytest.fixture
def hub(site: Settings) -> Iterator[Hub]:
    hub = Hub(site, retry_base=0.2)
    yield hub
    hub.close()


def subscribe(hub: Hub, subscriber: Subscriber, **extra: str) -> None:
    form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": subscriber.url, **extra}
    hub.request(form, [TOPIC])


def pump(builder: Builder, hub: Hub, until: Callable[[], bool], timeout: float = 20) -> bool:
    """Run the delivery job (as the scheduler would) until a condition holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliver(builder, hub)
        if until():
            return True
        time.sleep(0.1)
    return False


def test_subscription_is_verified_then_deliveries_are_signed(
    site: Settings, hub: Hub, subscriber: Subscriber, write_post: Callable[..., Path]
) -> None:
    """Subscribe -> challenge echoed -> active; a changed feed is POSTed whole with Link headers and signature."""
    builder = Builder(site)
    run_reload(builder, lambda: NOW, hub=hub)
    subscribe(hub, subscriber, **{"hub.secret": "s3cret", "hub.lease_seconds": "3600"})
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    challenge = subscriber.received[0]
    assert challenge.method == "GET"
    assert challenge.query["hub.mode"] == ["subscribe"] and challenge.query["hub.topic"] == [TOPIC]
    assert challenge.query["hub.lease_seconds"] == ["3600"]

    write_post("b.md", title="Brand new", categories="[One]")
    run_reload(builder, lambda: NOW, hub=hub)
    assert pump(builder, hub, lambda: bool(subscriber.posts()))
    delivery = subscriber.posts()[0]
    assert b"Brand new" in delivery.body
    assert delivery.body == builder.snapshot.files["/feeds/all.atom"].body
    assert delivery.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert delivery.headers["Link"] == f'<https://example.org/websub>; rel="hub", <{TOPIC}>; rel="self"'
    expected = hmac.new(b"s3cret", delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["X-Hub-Signature"] == f"sha256={expected}"
    assert hub.counts()["pending_deliveries"] == 0


def test_failed_deliveries_are_retried_with_backoff(
    site: Settings, hub: Hub, subscriber: Subscriber, write_post: Callable[..., Path]
) -> None:
    """A subscriber that fails twice, then succeeds, gets the delivery on the third try."""
    builder = Builder(site)
    builder.reload(NOW)
    subscribe(hub, subscriber)
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    subscriber.post_statuses[:] = [500, 503]
    hub.publish([TOPIC])
    assert pump(builder, hub, lambda: len(subscriber.posts()) == 3)
    times = [p.at for p in subscriber.posts()]
    assert times[2] - times[1] >= times[1] - times[0] > 0.15  # backoff grows
    assert pump(builder, hub, lambda: hub.counts()["pending_deliveries"] == 0)


def test_410_ends_the_subscription(site: Settings, hub: Hub, subscriber: Subscriber) -> None:
    """A delivery answered with 410 Gone removes the subscription."""
    builder = Builder(site)
    builder.reload(NOW)
    subscribe(hub, subscriber)
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    subscriber.post_statuses[:] = [410]
    hub.publish([TOPIC])
    assert pump(builder, hub, lambda: hub.counts() == {"subscriptions": 0, "pending_deliveries": 0})
    assert len(subscriber.posts()) == 1


def test_unsubscribe_and_failed_verification(site: Settings, hub: Hub, subscriber: Subscriber) -> None:
    """A subscriber that does not echo the challenge changes nothing; unsubscribe removes after verifying."""
    subscriber.echo_challenge = False
    subscribe(hub, subscriber)
    assert subscriber.wait_for(lambda: len(subscriber.received) == 1)
    time.sleep(0.2)
    assert hub.counts()["subscriptions"] == 0
    subscriber.echo_challenge = True
    subscribe(hub, subscriber, **{"hub.secret": "old"})
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    subscriber.echo_challenge = False  # a re-subscription that is not verified keeps the old one
    subscribe(hub, subscriber, **{"hub.secret": "new"})
    assert subscriber.wait_for(lambda: len(subscriber.received) == 3)
    time.sleep(0.2)
    assert hub.counts()["subscriptions"] == 1
    subscriber.echo_challenge = True
    hub.request({"hub.mode": "unsubscribe", "hub.topic": TOPIC, "hub.callback": subscriber.url}, [TOPIC])
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 0)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"hub.mode": "publish"}, "hub.mode"),
        ({"hub.topic": "https://elsewhere.example/feed"}, "not a feed of this site"),
        ({"hub.callback": "ftp://example.org/x"}, "absolute http"),
        ({"hub.callback": "/relative"}, "absolute http"),
        ({"hub.secret": "x" * 200}, "199 bytes"),
        ({"hub.lease_seconds": "soon"}, "whole number"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    hub: Hub, subscriber: Subscriber, form: dict[str, str], message: str
) -> None:
    """Each bad request is refused with a plain reason and nothing is contacted."""
    full = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": subscriber.url, **form}
    with pytest.raises(HubRequestError, match=message):
        hub.request(full, [TOPIC])
    time.sleep(0.1)
    assert subscriber.received == []


def test_private_callbacks_are_refused_unless_allowed(
    make_settings: Callable[..., Settings], subscriber: Subscriber
) -> None:
    """With websub_allow_private off, a loopback callback is refused and never contacted."""
    hub = Hub(make_settings())
    try:
        for callback in (
            subscriber.url,
            "http://localhost:9/x",
            "http://10.0.0.1/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest",
        ):
            with pytest.raises(HubRequestError, match="public addresses"):
                hub.request({"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": callback}, [TOPIC])
        time.sleep(0.2)
        assert subscriber.received == []
    finally:
        hub.close()


def test_leases_are_capped_and_subscriptions_survive_a_restart(site: Settings, subscriber: Subscriber) -> None:
    """A lease over 30 days is cut to 30; a new Hub on the same state_dir still has the subscription."""
    hub = Hub(site)
    subscribe(hub, subscriber, **{"hub.lease_seconds": str(400 * 86400)})
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    assert subscriber.received[0].query["hub.lease_seconds"] == [str(30 * 86400)]
    hub.close()
    again = Hub(site)
    try:
        assert again.counts()["subscriptions"] == 1
    finally:
        again.close()


def test_feeds_advertise_the_hub(site: Settings) -> None:
    """Atom and RSS carry atom:link rel=hub and rel=self, JSON Feed `hubs`, responses the Link header."""
    builder = Builder(site)
    builder.reload(NOW)
    client = create_app(site, builder).test_client()
    atom = etree.fromstring(client.get("/feeds/all.atom").data)
    assert {x.get("rel"): x.get("href") for x in atom.findall(ATOM + "link")}["hub"] == "https://example.org/websub"
    channel = etree.fromstring(client.get("/feeds/category/one.rss").data).find("channel")
    rels = {x.get("rel"): x.get("href") for x in channel.findall(ATOM + "link")}
    assert rels["hub"] == "https://example.org/websub"
    assert rels["self"] == "https://example.org/feeds/category/one.rss"
    assert json.loads(client.get("/feeds/all.json").data)["hubs"] == [
        {"type": "WebSub", "url": "https://example.org/websub"}
    ]
    link = client.get("/feeds/category/one.json").headers["Link"]
    assert link == '<https://example.org/websub>; rel="hub", <https://example.org/feeds/category/one.json>; rel="self"'


def test_an_external_hub_is_advertised_and_pinged(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], subscriber: Subscriber
) -> None:
    """With websub_hub set, feeds name that hub and each change pings it with hub.mode=publish."""
    write_post("a.md", title="A")
    settings = make_settings(websub_hub=subscriber.url)
    builder = Builder(settings)
    hub = Hub(settings, retry_base=0.2)
    try:
        run_reload(builder, lambda: NOW, hub=hub)
        assert subscriber.url.encode() in builder.snapshot.files["/feeds/all.atom"].body
        assert pump(builder, hub, lambda: len(subscriber.posts()) >= 3)
        pinged = {p.body.decode() for p in subscriber.posts()}
        assert "hub.mode=publish&hub.url=https%3A%2F%2Fexample.org%2Ffeeds%2Fall.atom" in pinged
        with pytest.raises(HubRequestError, match="external hub"):
            hub.request({"hub.mode": "subscribe"}, [])
    finally:
        hub.close()


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
    edited = time.monotonic()
    post.write_text("---\ntitle: Edited title\ndate: 2025-01-01\ncategories: [News]\n---\nBody.\n")
    assert subscriber.wait_for(lambda: any(b"Edited title" in p.body for p in subscriber.posts()), timeout=15)
    delivery = next(p for p in subscriber.posts() if b"Edited title" in p.body)
    assert delivery.at - edited < 10
    assert delivery.headers["X-Hub-Signature"] == "sha256=" + hmac.new(b"k", delivery.body, hashlib.sha256).hexdigest()
    assert delivery.body == server.get("/feeds/category/news.atom").content
    (tmp_path / "delivery.txt").write_text(
        f"{delivery.at - edited:.2f}s after the edit\n" + "\n".join(f"{k}: {v}" for k, v in delivery.headers.items())
    )
    server.stop()
    again = start_server(tmp_path, **env)
    assert again.get("/healthz").json()["websub"]["subscriptions"] == 1


def test_expired_leases_are_dropped(site: Settings, hub: Hub, subscriber: Subscriber) -> None:
    """A subscription whose lease ran out gets nothing and is removed."""
    builder = Builder(site)
    builder.reload(NOW)
    subscribe(hub, subscriber, **{"hub.lease_seconds": "1"})
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    time.sleep(1.2)
    assert hub.publish([TOPIC]) == 0
    deliver(builder, hub)
    assert hub.counts() == {"subscriptions": 0, "pending_deliveries": 0}
    assert subscriber.posts() == []
