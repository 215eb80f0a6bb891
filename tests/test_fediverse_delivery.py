"""Deliveries to followers: once per inbox, in order, retried, surviving a restart, one dead server holding up no
other; posts for partners, drafts and posts not yet due are never federated (a future one when it comes due)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from support.factories import NOW
from support.fediremote import RemoteServer
from support.fedisite import Site
from support.fedisite import fediverse_sites
from support.fedisite import followed
from support.stalling import StallingHost
from syndicator.config import Settings
from syndicator.service.federation import Tuning
from syndicator.store.fediverse import Follower

RECENT = "2025-12-31T10:00:00Z"  # the day before NOW: a new post is news (core.news)


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    server = RemoteServer(names=("reader", "other"))
    yield server
    server.close()


@pytest.fixture
def make_site(make_settings: Callable[..., Settings], write_post: Callable[..., Path]) -> Iterator[Callable[..., Site]]:
    write_post("a.md", title="A", categories="[Alpha]")
    with fediverse_sites(make_settings, NOW) as make:
        yield make


@pytest.fixture
def site(make_site: Callable[..., Site], remote: RemoteServer) -> Site:
    """A site whose Alpha account the remote's reader follows (its Accept delivered)."""
    return followed(make_site(), remote)


def titles(remote: RemoteServer, kind: str = "Create") -> list[str]:
    return [d.activity["object"].get("name", "") for d in remote.activities(kind)]


def test_one_delivery_per_shared_inbox(site: Site, remote: RemoteServer, write_post: Callable[..., Path]) -> None:
    """Two followers behind one shared inbox get a post once; each account it is in sends its own copy."""
    assert remote.follow(site.actor("alpha"), name="other")[1].status_code == 202
    assert remote.follow(site.actor("blog"), name="other")[1].status_code == 202
    assert site.pump(lambda: len(remote.activities("Accept")) == 3)
    write_post("b.md", title="B", date=RECENT, categories="[Alpha]")
    site.reload(NOW)
    assert site.pump(lambda: len(remote.activities("Create")) == 2 and site.federation.queue.pending() == 0)
    creates = remote.activities("Create")
    assert sorted(d.activity["actor"] for d in creates) == [site.actor("alpha"), site.actor("blog")]
    assert {d.path for d in creates} == {"/inbox"}
    assert all(d.signer == d.activity["actor"] for d in creates)
    site.reload(NOW + timedelta(minutes=1))  # nothing changed: nothing sent again
    assert site.federation.queue.pending() == 0 and len(remote.activities("Create")) == 2


def test_failures_are_retried_and_order_is_kept(
    site: Site, remote: RemoteServer, write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """A Create answered 503 is retried; the Update queued meanwhile waits for it: Create, then Update."""
    remote.inbox_statuses[:] = [503, 500]
    write_post("b.md", title="B", date=RECENT, categories="[Alpha]")
    site.reload(NOW)
    (posts_dir / "b.md").write_text((posts_dir / "b.md").read_text().replace("Hello.", "Hello again."))
    site.reload(NOW + timedelta(minutes=1))
    assert site.pump(lambda: site.federation.queue.pending() == 0)
    kinds = [d.activity["type"] for d in remote.activities() if d.activity["type"] != "Accept"]
    assert kinds == ["Create", "Create", "Create", "Update"]  # two failed tries, then each once, in order


def test_queued_deliveries_survive_a_restart(site: Site, remote: RemoteServer, write_post: Callable[..., Path]) -> None:
    """A delivery not yet made when the server stops is made after it starts again, once."""
    remote.inbox_statuses[:] = [503]
    write_post("b.md", title="B", date=RECENT, categories="[Alpha]")
    site.reload(NOW)
    assert site.pump(lambda: len(remote.activities("Create")) == 1)
    site.restart()
    assert site.federation.queue.pending() == 1
    site.reload(NOW + timedelta(minutes=1))  # the restarted server's first reload sends nothing twice
    assert site.pump(lambda: site.federation.queue.pending() == 0)
    assert titles(remote) == ["B", "B"]  # the failed try, then the delivery after the restart


def test_a_gone_inbox_ends_its_follows(site: Site, remote: RemoteServer, write_post: Callable[..., Path]) -> None:
    """410 Gone from an inbox removes the followers behind it and what waited for it."""
    remote.inbox_statuses[:] = [410]
    write_post("b.md", title="B", date=RECENT, categories="[Alpha]")
    site.reload(NOW)
    assert site.pump(lambda: site.federation.followers.count() == 0)
    assert site.federation.queue.pending() == 0


def test_a_hanging_server_holds_up_no_other(
    make_site: Callable[..., Site], remote: RemoteServer, write_post: Callable[..., Path]
) -> None:
    """A follower's server that never answers delays only itself: the other follower gets the post."""
    site = make_site(Tuning(retry_base=0.2, deadline=30.0))
    stalling = StallingHost("hang")
    try:
        dead = Follower("alpha", f"{stalling.url}/users/x", f"{stalling.url}/inbox", stalling.address)
        site.federation.followers.follow(dead, 0.0)
        assert remote.follow(site.actor("alpha"))[1].status_code == 202
        assert site.pump(lambda: bool(remote.activities("Accept")))
        write_post("b.md", title="B", date=RECENT, categories="[Alpha]")
        site.reload(NOW)
        assert site.pump(lambda: bool(remote.activities("Create")))
        assert stalling.accepted == 1 and stalling.open_now == 1  # still waiting for its answer
    finally:
        stalling.close()


def test_what_is_not_public_is_never_federated(
    site: Site, remote: RemoteServer, write_post: Callable[..., Path]
) -> None:
    """Posts for partners and drafts are never sent; a future post is sent when its time comes."""
    write_post("p.md", title="Partners", categories="[Alpha]", visibility="partners")
    write_post("d.md", title="Draft", categories="[Alpha]", draft="true")
    write_post("f.md", title="Future", categories="[Alpha]", date="2026-03-01T10:00:00Z")
    write_post("n.md", title="Now", date=RECENT, categories="[Alpha]")
    site.reload(NOW)
    assert site.pump(lambda: site.federation.queue.pending() == 0 and bool(remote.activities("Create")))
    assert titles(remote) == ["Now"]
    site.reload(NOW.replace(month=3, day=2))
    assert site.pump(lambda: len(remote.activities("Create")) == 2)
    assert titles(remote) == ["Now", "Future"]
