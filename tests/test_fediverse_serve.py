"""`syndicator serve` with fediverse on, end to end: a bovine-based remote server follows a category, receives a
new post, an edit made while the server was stopped, and a deletion, each once, signed, in order."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest

from conftest import Server
from conftest import post_text
from support.fediremote import RemoteServer

FEDIVERSE = {"SYNDICATOR_FEDIVERSE": "true", "SYNDICATOR_FEDIVERSE_ALLOW_PRIVATE": "true"}


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    server = RemoteServer()
    yield server
    server.close()


def test_serve_federates_across_a_restart(
    tmp_path: Path, start_server: Callable[..., Server], remote: RemoteServer
) -> None:
    """Follow -> Accept; new post -> Create; edit while stopped -> Update after the restart; delete -> Delete."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "old.md").write_text(post_text("Old", categories="[Alpha]"))
    server = start_server(tmp_path, SYNDICATOR_RELOAD_INTERVAL="1", **FEDIVERSE)
    actor = f"{server.url}/ap/actors/alpha"
    host = server.url.removeprefix("http://")
    webfinger = server.get("/.well-known/webfinger", params={"resource": f"acct:alpha@{host}"}).json()
    assert webfinger["links"][0]["href"] == actor
    assert remote.follow(actor)[1].status_code == 202
    assert remote.wait_for(lambda: bool(remote.activities("Accept")))
    assert server.get("/healthz").json()["fediverse"]["followers"] == 1

    today = datetime.now(UTC).replace(microsecond=0).isoformat()  # a new post is news (core.news)
    (posts / "new.md").write_text(post_text("New", date=today, categories="[Alpha]"))
    assert remote.wait_for(lambda: bool(remote.activities("Create")))
    server.stop()
    (posts / "new.md").write_text(post_text("New, edited", date=today, categories="[Alpha]"))
    server = start_server(tmp_path, server.port, SYNDICATOR_RELOAD_INTERVAL="1", **FEDIVERSE)  # the same site_url
    assert remote.wait_for(lambda: bool(remote.activities("Update")))
    (posts / "new.md").unlink()
    assert remote.wait_for(lambda: bool(remote.activities("Delete")))

    kinds = [d.activity["type"] for d in remote.activities()]
    assert kinds == ["Accept", "Create", "Update", "Delete"]
    assert all(d.signer == actor for d in remote.activities())  # bovine verified each with our key
    assert remote.activities("Update")[0].activity["object"]["name"] == "New, edited"
