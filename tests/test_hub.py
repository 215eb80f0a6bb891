"""The WebSub hub: subscription, verification of intent, signed delivery, retries, 410, safety, restarts."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from lxml import etree

from support.factories import NOW
from support.feedcheck import ATOM
from support.feedcheck import wait_for
from support.programs import program
from support.stalling import StallingHost
from support.subscriber import Subscriber
from syndicator.config import Settings
from syndicator.outbound import is_public
from syndicator.service.build import Builder
from syndicator.service.callbacks import parse_callback
from syndicator.service.http.app import create_app
from syndicator.service.hub import WORKERS
from syndicator.service.hub import Hub
from syndicator.service.hub import HubBusyError
from syndicator.service.hub import HubRequestError
from syndicator.service.hub import Limits
from syndicator.service.hubstore import HubStore
from syndicator.service.schedule import DELIVERY_JOB
from syndicator.service.schedule import Reloads

TOPIC = "https://example.org/feeds/all.atom"
CATEGORY_TOPIC = "https://example.org/feeds/category/one.atom"


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
    subscribe_to(hub, subscriber.url, **extra)


def subscribe_to(hub: Hub, callback: str, **extra: str) -> None:
    form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": callback, **extra}
    hub.request(form, [TOPIC])


def pump(builder: Builder, hub: Hub, until: Callable[[], bool], timeout: float = 20) -> bool:
    """Run the delivery job (as the scheduler would) until a condition holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        Reloads(builder, lambda: NOW, hub).deliver()
        if until():
            return True
        time.sleep(0.1)
    return False


def test_subscription_is_verified_then_deliveries_are_signed(
    site: Settings, hub: Hub, subscriber: Subscriber, write_post: Callable[..., Path]
) -> None:
    """Subscribe -> challenge echoed -> active; a changed feed is POSTed whole with Link headers and signature."""
    builder = Builder(site)
    Reloads(builder, lambda: NOW, hub).run()
    subscribe(hub, subscriber, **{"hub.secret": "s3cret", "hub.lease_seconds": "3600"})
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    challenge = subscriber.received[0]
    assert challenge.method == "GET"
    assert challenge.query["hub.mode"] == ["subscribe"] and challenge.query["hub.topic"] == [TOPIC]
    assert challenge.query["hub.lease_seconds"] == ["3600"]

    write_post("b.md", title="Brand new", categories="[One]")
    Reloads(builder, lambda: NOW, hub).run()
    assert pump(builder, hub, lambda: bool(subscriber.posts()))
    delivery = subscriber.posts()[0]
    assert b"Brand new" in delivery.body
    assert delivery.body == builder.snapshot.files["/feeds/all.atom"].body
    assert delivery.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert delivery.headers["Link"] == f'<https://example.org/websub>; rel="hub", <{TOPIC}>; rel="self"'
    expected = hmac.new(b"s3cret", delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["X-Hub-Signature"] == f"sha256={expected}"
    # the hub marks the delivery done once it has read the answer, just after the subscriber has the body
    assert subscriber.wait_for(lambda: hub.counts()["pending_deliveries"] == 0)


def test_failed_deliveries_are_retried_with_backoff(
    site: Settings, hub: Hub, subscriber: Subscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subscriber that fails twice, then succeeds, gets the delivery on the third try; the wait before each
    retry doubles (read from what the hub asks its store, not from a clock: no timing in tests)."""
    builder = Builder(site)
    builder.reload(NOW)
    subscribe(hub, subscriber)
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    scheduled: list[tuple[int, float]] = []
    retry = hub.store.retry

    def recorded(delivery_id: int, attempts: int, delay: float) -> None:
        scheduled.append((attempts, delay))
        retry(delivery_id, attempts, delay)

    monkeypatch.setattr(hub.store, "retry", recorded)
    subscriber.post_statuses[:] = [500, 503]
    hub.publish([TOPIC])
    assert pump(builder, hub, lambda: len(subscriber.posts()) == 3)
    assert scheduled == [(1, hub.retry_base), (2, 2 * hub.retry_base)]  # backoff doubles
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
        ({"hub.callback": "http://[::1/x"}, "not a URL"),  # an IPv6 host never closed
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


def test_a_delivery_pending_at_a_restart_goes_out_with_the_feed_of_the_first_load(
    site: Settings, subscriber: Subscriber
) -> None:
    """A delivery the last run left pending is neither sent nor dropped while the first load runs (the feeds
    served then are the files the last run left, which a delivery cannot carry); it goes out once the load is done,
    with the feed as loaded."""
    Builder(site).reload(NOW)  # the last run: its feeds in output_dir
    last = HubStore(site.state_dir)
    last.subscribe(subscriber.url, TOPIC, "", 3600)
    assert last.queue([TOPIC], None) == 1  # pending when it stopped (the subscriber was down)
    last.close()
    builder = Builder(site)
    builder.serve_stored(NOW)  # what serve answers with from the first moment
    loading, loaded = threading.Event(), threading.Event()

    def clock() -> datetime:  # the first load reads the clock as it begins: it waits here until told to go on
        loading.set()
        loaded.wait(30)
        return NOW

    hub = Hub(site)
    reloads = Reloads(builder, clock, hub)
    looked: list[str] = []
    reloads.scheduler.add_listener(lambda event: looked.append(event.job_id), EVENT_JOB_EXECUTED)
    reloads.start(first_load=True)
    try:
        assert loading.wait(20)
        assert subscriber.wait_for(lambda: looked.count(DELIVERY_JOB) >= 2)  # it looked twice during the load
        assert builder.snapshot is not None and builder.snapshot.starting
        assert hub.counts()["pending_deliveries"] == 1 and subscriber.posts() == []
        loaded.set()
        assert subscriber.wait_for(lambda: bool(subscriber.posts()))
        assert subscriber.posts()[0].body == builder.snapshot.files["/feeds/all.atom"].body
    finally:
        loaded.set()
        reloads.stop()
        hub.close()


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
        Reloads(builder, lambda: NOW, hub).run()
        assert subscriber.url.encode() in builder.snapshot.files["/feeds/all.atom"].body
        assert pump(builder, hub, lambda: len(subscriber.posts()) >= 3)
        pinged = {p.body.decode() for p in subscriber.posts()}
        assert "hub.mode=publish&hub.url=https%3A%2F%2Fexample.org%2Ffeeds%2Fall.atom" in pinged
        with pytest.raises(HubRequestError, match="external hub"):
            hub.request({"hub.mode": "subscribe"}, [])
    finally:
        hub.close()


def test_a_build_pings_the_external_hub_within_its_budget(
    make_settings: Callable[..., Settings], subscriber: Subscriber
) -> None:
    """A build with no builder running pings the external hub itself before it exits, within a budget (a first
    build changes every feed, and a hub may hang): the pings past it stay due for the next builder, none is lost."""
    settings = make_settings(websub_hub=subscriber.url)
    hub = Hub(settings)
    try:
        topics = [f"https://example.org/feeds/{name}.atom" for name in ("all", "category/a", "category/b")]
        assert hub.publish(topics) == 3
        hub.ping_here(budget=0.0)
        assert subscriber.posts() == [] and len(hub.store.take_due()) == 3
        hub.close()
        hub = Hub(settings)  # the next builder: what the last left running is due again
        hub.ping_here()
        pinged = sorted(p.body.decode() for p in subscriber.posts())
        assert pinged == sorted(urlencode({"hub.mode": "publish", "hub.url": topic}) for topic in topics)
    finally:
        hub.close()


def test_expired_leases_are_dropped(site: Settings, hub: Hub, subscriber: Subscriber) -> None:
    """A subscription whose lease ran out gets nothing and is removed."""
    builder = Builder(site)
    builder.reload(NOW)
    subscribe(hub, subscriber, **{"hub.lease_seconds": "1"})
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    time.sleep(1.2)
    assert hub.publish([TOPIC]) == 0
    Reloads(builder, lambda: NOW, hub).deliver()
    assert hub.counts() == {"subscriptions": 0, "pending_deliveries": 0}
    assert subscriber.posts() == []


# -- hostile subscribers ------------------------------------------------------------------------


@pytest.fixture
def stalling() -> Iterator[Callable[..., StallingHost]]:
    """Start callback hosts that hang or trickle (on 127.0.0.2, a host of their own); closed after the test."""
    hosts: list[StallingHost] = []

    def start(mode: str = "hang", **kwargs: Any) -> StallingHost:
        host = StallingHost(mode, **kwargs)
        hosts.append(host)
        return host

    yield start
    for host in hosts:
        host.close()


def loopback_resolver(*answers: str) -> tuple[Callable[..., list[tuple[Any, ...]]], list[str]]:
    """A resolver whose n-th look-up answers the n-th address (the last one from then on), and the names asked."""
    asked: list[str] = []

    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[Any, ...]]:
        asked.append(host)
        address = answers[min(len(asked), len(answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    return resolve, asked


@pytest.mark.parametrize(
    "host",
    [
        "%6c%6f%63%61%6c%68%6f%73%74",  # "localhost", which urllib would have unquoted before connecting
        "127.0.0.1%2e",
        "[fe80::1%25lo]",
        ".".join(["a" * 63] * 4),  # 255 bytes: longer than any DNS name
    ],
)
def test_a_callback_host_with_percent_or_over_253_bytes_is_refused(hub: Hub, subscriber: Subscriber, host: str) -> None:
    """A callback host with % or longer than 253 bytes is refused at once, even with websub_allow_private."""
    port = subscriber.url.split(":")[2].split("/")[0]
    callback = f"http://{host}:{port}/callback"
    with pytest.raises(HubRequestError, match=r"percent-encoded|longer than 253 bytes"):
        subscribe_to(hub, callback)
    time.sleep(0.3)
    assert subscriber.received == []


def test_a_253_byte_host_passes_the_syntax_check() -> None:
    """253 bytes is the longest DNS name, and allowed."""
    host = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(host) == 253
    assert parse_callback(f"https://{host}/cb").host == host


def test_a_callback_url_over_2_kib_is_refused(hub: Hub, subscriber: Subscriber) -> None:
    """Callback URLs are capped at 2 KiB, so subscriptions cannot fill the hub's database."""
    with pytest.raises(HubRequestError, match="longer than 2048 bytes"):
        subscribe_to(hub, subscriber.url + "?" + "x" * 60_000)
    subscribe_to(hub, subscriber.url + "?" + "x" * 1900)
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)


def test_no_dns_look_up_runs_in_the_request(site: Settings, subscriber: Subscriber) -> None:
    """hub.request only checks syntax: the callback's name is looked up on the hub's own thread."""
    release = threading.Event()
    threads: list[threading.Thread] = []
    resolve_now, _ = loopback_resolver("127.0.0.1")

    def slow_resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[Any, ...]]:
        threads.append(threading.current_thread())
        release.wait(10)
        return resolve_now(host, port)

    hub = Hub(site, resolve=slow_resolve)
    try:
        port = subscriber.url.split(":")[2].split("/")[0]
        subscribe_to(hub, f"http://slow-dns.test:{port}/callback")
        assert threads == [] or threads[0] is not threading.current_thread()
        assert subscriber.wait_for(lambda: bool(threads), timeout=5)
        assert threads[0] is not threading.current_thread()
        release.set()
        assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
        assert subscriber.received[0].headers["Host"] == f"slow-dns.test:{port}"
    finally:
        release.set()
        hub.close()


def test_the_address_checked_is_the_address_connected_to(site: Settings, subscriber: Subscriber) -> None:
    """DNS rebinding: one look-up per request, and the connection goes to the address it answered.

    The name first resolves to the subscriber (127.0.0.1), then to a listener on
    127.0.0.2 with the same port; a second look-up would reach the wrong one.
    """
    port = int(subscriber.url.split(":")[2].split("/")[0])
    rogue = socket.create_server(("127.0.0.2", port))
    rogue.settimeout(0.5)
    resolve, asked = loopback_resolver("127.0.0.1", "127.0.0.2")
    hub = Hub(site, resolve=resolve)
    try:
        subscribe_to(hub, f"http://rebind.test:{port}/callback")
        assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
        assert asked == ["rebind.test"]
        with pytest.raises(TimeoutError):
            rogue.accept()
    finally:
        hub.close()
        rogue.close()


@pytest.mark.parametrize("answer", ["127.0.0.1", "10.1.2.3", "::1", "::ffff:127.0.0.1", "169.254.169.254"])
def test_a_name_resolving_to_a_private_address_is_never_contacted(
    make_settings: Callable[..., Settings], subscriber: Subscriber, answer: str
) -> None:
    """Without websub_allow_private, a callback name that resolves to a private address is refused on contact."""
    resolve, asked = loopback_resolver(answer)
    hub = Hub(make_settings(), resolve=resolve)
    try:
        port = subscriber.url.split(":")[2].split("/")[0]
        subscribe_to(hub, f"http://innocent.test:{port}/callback")
        assert subscriber.wait_for(lambda: asked == ["innocent.test"], timeout=5)
        time.sleep(0.3)
        assert subscriber.received == []
        assert hub.counts()["subscriptions"] == 0
    finally:
        hub.close()


def test_every_callback_request_has_a_total_deadline(
    site: Settings, stalling: Callable[..., StallingHost], subscriber: Subscriber
) -> None:
    """A callback answering one byte every half second (well within the per-read timeout) is cut at the deadline."""
    slow = stalling("trickle", interval=0.5)  # the whole answer would take 14 hours
    hub = Hub(site, deadline=2)
    try:
        subscribe_to(hub, slow.url + "/callback")
        assert subscriber.wait_for(lambda: slow.closed_by_peer != [], timeout=15)
        assert hub.counts()["subscriptions"] == 0
    finally:
        hub.close()


@pytest.mark.parametrize(("mode", "requests_sent"), [("trickle", 8), ("hang", 40)])
def test_a_slow_or_hanging_subscriber_holds_up_no_other(
    hub: Hub, stalling: Callable[..., StallingHost], subscriber: Subscriber, mode: str, requests_sent: int
) -> None:
    """Many verifications stuck on one host (trickling or never answering) do not delay another host's."""
    slow = stalling(mode)
    refused = 0
    for n in range(requests_sent):
        try:
            subscribe_to(hub, f"{slow.url}/callback/{n}")
        except HubBusyError:
            refused += 1
    assert subscriber.wait_for(lambda: slow.accepted == 1, timeout=5)
    subscribe(hub, subscriber)
    assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1, timeout=10)
    assert slow.open_now == 1  # still stuck on the slow host, one request at a time
    assert refused == max(0, requests_sent - hub.limits.pending_per_host)


def stalling_hosts(stalling: Callable[..., StallingHost], hub: Hub, count: int, callbacks: int) -> list[StallingHost]:
    """``count`` callback hosts that never answer (127.0.0.2 and on), each subscribed ``callbacks`` times to the
    category feed (straight into the store: they would not answer a challenge either)."""
    hosts = [stalling("hang", address=f"127.0.0.{2 + n}") for n in range(count)]
    for host in hosts:
        for n in range(callbacks):
            hub.store.subscribe(f"{host.url}/callback/{n}", CATEGORY_TOPIC, "", 3600)
    return hosts


def test_a_host_with_many_deliveries_queued_takes_its_turn_like_the_others(
    site: Settings, stalling: Callable[..., StallingHost], subscriber: Subscriber
) -> None:
    """16 callback hosts (as many as the hub's workers) with 6 stalling deliveries each, queued before a good
    subscriber's: the good one is delivered after one stalled request per host, while every stalling host still
    has deliveries never tried (each host goes back to the end of the line after one delivery)."""
    builder = Builder(site)
    builder.reload(NOW)
    hub = Hub(site, deadline=2)
    hosts = stalling_hosts(stalling, hub, 16, 6)
    try:
        subscribe(hub, subscriber)
        assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 16 * 6 + 1)
        hub.publish([CATEGORY_TOPIC])
        Reloads(builder, lambda: NOW, hub).deliver()
        hub.publish([TOPIC])
        assert pump(builder, hub, lambda: bool(subscriber.posts()))
        tried = [host.accepted for host in hosts]
        assert max(tried) < 6, f"a stalling host kept a worker for all its deliveries: {tried}"
    finally:
        hub.close()


def test_hosts_that_time_out_take_at_most_half_the_workers(
    site: Settings, stalling: Callable[..., StallingHost], subscriber: Subscriber
) -> None:
    """16 callback hosts whose deliveries time out, then stall to the deadline (a minute, sending a byte every
    half second): once they have timed out they hold at most half the workers, and a good subscriber's delivery
    goes out while their requests are still stalled."""
    builder = Builder(site)
    builder.reload(NOW)
    hub = Hub(site, deadline=60)  # longer than the test waits: a stalled request frees no worker meanwhile
    hosts = stalling_hosts(stalling, hub, 16, 4)
    try:
        subscribe(hub, subscriber)
        assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 16 * 4 + 1)
        hub.publish([CATEGORY_TOPIC])
        Reloads(builder, lambda: NOW, hub).deliver()
        assert subscriber.wait_for(lambda: all(host.accepted == 1 for host in hosts))
        for host in hosts:
            host.mode = "trickle"  # their next requests (once the first time out, in 10 s) stall to the deadline
        assert subscriber.wait_for(lambda: all(host.closed_by_peer for host in hosts))
        assert subscriber.wait_for(lambda: stalled(hosts) >= WORKERS // 2)  # their second round
        hub.publish([TOPIC])
        assert pump(builder, hub, lambda: bool(subscriber.posts()))
        assert 0 < stalled(hosts) <= WORKERS // 2
    finally:
        for host in hosts:
            host.close()  # before the hub: their requests end now, and are put back in its store
        hub.close()


def stalled(hosts: list[StallingHost]) -> int:
    """The requests the stalling hosts hold open now."""
    return sum(host.open_now for host in hosts)


def test_subscriptions_per_callback_host_and_in_total_are_capped(
    site: Settings, subscriber: Subscriber, write_post: Callable[..., Path]
) -> None:
    """Past a host's cap, or the hub's, a new subscription is refused with 429 and the reason; renewals still work."""
    resolve, _ = loopback_resolver("127.0.0.1")
    hub = Hub(site, resolve=resolve, limits=Limits(per_host=2, total=3))
    port = subscriber.url.split(":")[2].split("/")[0]
    try:
        for n in (1, 2):
            subscribe_to(hub, f"http://a.test:{port}/callback/{n}")
        assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 2)
        with pytest.raises(HubBusyError, match=r"a\.test has reached its 2 subscriptions") as refused:
            subscribe_to(hub, f"http://a.test:{port}/callback/3")
        assert refused.value.status == 429
        subscribe_to(hub, f"http://a.test:{port}/callback/1")  # a renewal adds nothing
        subscribe_to(hub, f"http://b.test:{port}/callback/1")
        assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 3 and len(subscriber.received) == 4)
        with pytest.raises(HubBusyError, match="maximum of 3 subscriptions"):
            subscribe_to(hub, f"http://c.test:{port}/callback/1")
    finally:
        hub.close()


def test_pending_verifications_are_capped_and_answered_429(
    site: Settings, stalling: Callable[..., StallingHost], subscriber: Subscriber
) -> None:
    """POST /websub past the cap of pending verifications is answered 429 with the reason."""
    slow = stalling("hang")
    builder = Builder(site)
    builder.reload(NOW)
    hub = Hub(site, limits=Limits(pending_per_host=1, pending=2))
    try:
        client = create_app(site, builder, hub).test_client()
        post = {"hub.mode": "subscribe", "hub.topic": TOPIC}
        assert client.post("/websub", data={**post, "hub.callback": slow.url + "/1"}).status_code == 202
        busy = client.post("/websub", data={**post, "hub.callback": slow.url + "/2"})
        assert busy.status_code == 429 and "pending" in busy.text
        assert client.post("/websub", data={**post, "hub.callback": subscriber.url}).status_code == 202
        assert subscriber.wait_for(lambda: hub.counts()["subscriptions"] == 1)
    finally:
        hub.close()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("100.64.0.1", False),  # shared address space (carrier-grade NAT)
        ("169.254.169.254", False),
        ("0.0.0.0", False),  # noqa: S104 - an address to classify, not to bind
        ("224.0.0.1", False),
        ("::1", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("64:ff9b::a00:1", False),  # NAT64 to 10.0.0.1 (an IPv6-only host with DNS64 reaches it)
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::5db8:d70e", True),  # NAT64 to 93.184.215.14
        ("64:ff9b:1::a00:1", False),  # local-use NAT64
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", False),
        ("2002:5db8:d70e::1", True),  # 6to4 of 93.184.215.14
        ("::7f00:1", False),  # IPv4-compatible
        ("::5db8:d70e", False),
        ("::ffff:0:7f00:1", False),  # IPv4-translated
        ("fec0::1", False),  # site-local
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    """Only public unicast addresses count as public (IPv4-mapped IPv6 as its IPv4 address)."""
    assert is_public(ipaddress.ip_address(address)) is public


def test_subscriptions_from_before_the_caps_count_against_them(site: Settings) -> None:
    """A hub database written before the per-host caps is brought up to date: its subscriptions count."""
    site.state_dir.mkdir(parents=True)
    with sqlite3.connect(site.state_dir / "hub.sqlite3") as db:
        db.execute(
            "CREATE TABLE subscriptions (callback TEXT NOT NULL, topic TEXT NOT NULL, secret TEXT NOT NULL DEFAULT '',"
            " expires_at REAL NOT NULL, PRIMARY KEY (callback, topic))"
        )
        old = ("http://Old.Example:8080/cb", TOPIC, "", time.time() + 60)
        db.execute("INSERT INTO subscriptions VALUES (?, ?, ?, ?)", old)
    db.close()
    hub = Hub(site, limits=Limits(per_host=1))
    try:
        assert hub.counts()["subscriptions"] == 1
        with pytest.raises(HubBusyError, match=r"old\.example has reached its 1 subscriptions"):
            subscribe_to(hub, "http://old.example/other")
    finally:
        hub.close()


def test_an_https_callback_is_reached_at_the_checked_address_under_its_own_name(site: Settings, tmp_path: Path) -> None:
    """HTTPS to the checked address still sends the host name (SNI) and checks the certificate against it."""
    openssl = program("openssl", "openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pinned.test"]
    names_in = ["-addext", "subjectAltName=DNS:pinned.test", "-keyout", str(key), "-out", str(cert)]
    subprocess.run([openssl, *request, *names_in], check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    names: list[str | None] = []

    def note_name(_sock: ssl.SSLSocket, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)

    tls.sni_callback = note_name
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_one() -> None:
        conn, _ = listener.accept()
        with contextlib.suppress(OSError), tls.wrap_socket(conn, server_side=True):
            pass  # the hub refuses the self-signed certificate during the handshake

    server = threading.Thread(target=serve_one, daemon=True)
    server.start()
    resolve, asked = loopback_resolver("127.0.0.1")
    hub = Hub(site, resolve=resolve)
    try:
        subscribe_to(hub, f"https://pinned.test:{port}/callback")
        server.join(10)
        assert names == ["pinned.test"] and asked == ["pinned.test"]
        time.sleep(0.3)
        assert hub.counts()["subscriptions"] == 0  # an untrusted certificate is a failed verification
    finally:
        hub.close()
        listener.close()


def test_a_stop_starts_no_more_deliveries_and_keeps_them_queued(
    site: Settings, stalling: Callable[..., StallingHost]
) -> None:
    """serve asked to stop (SIGTERM) with deliveries queued to stalling subscribers kept delivering until the queue
    was empty (144 s with 64 stalling hosts, past the unit's TimeoutStopSec): the hub starts no more once stopped,
    and what was not tried stays queued for the next start."""
    builder = Builder(site)
    builder.reload(NOW)
    hub = Hub(site, deadline=2)
    hosts = stalling_hosts(stalling, hub, 20, 3)
    try:
        hub.publish([CATEGORY_TOPIC])
        Reloads(builder, lambda: NOW, hub).deliver()
        assert wait_for(lambda: sum(host.accepted for host in hosts) == 16)  # every worker held by one
        hub.stop()
        assert wait_for(lambda: sum(len(host.closed_by_peer) for host in hosts) == 16, timeout=30)  # their deadline
        time.sleep(1.0)  # room for a hub not stopped to start the next ones
        assert sum(host.accepted for host in hosts) == 16
    finally:
        hub.close()
    again = HubStore(site.state_dir)  # the next start: the deliveries never tried are due
    try:
        assert len(again.take_due()) == 20 * 3 - 16
    finally:
        again.close()
