"""Following from the fediverse: a remote server built on bovine follows an account and receives its posts.

The remote server (tests/support/fediremote.py) signs with bovine and checks
what it receives with bovine, so our signatures are never only checked by our
own verifier.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from support.factories import NOW
from support.fediremote import RemoteServer
from support.fedisite import Site
from support.fedisite import fediverse_sites
from syndicator.config import Settings

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
RECENT = "2025-12-31T10:00:00Z"  # the day before NOW: a new post is news (core.news)


@pytest.fixture
def remote() -> Iterator[RemoteServer]:
    server = RemoteServer()
    yield server
    server.close()


@pytest.fixture
def make_site(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Site]]:
    with fediverse_sites(make_settings) as make:
        yield make


@pytest.fixture
def site(make_site: Callable[..., Site], write_post: Callable[..., Path]) -> Site:
    write_post("2025-06-01-first.md", title="First", categories="[Alpha]", tags="[Machine learning]")
    built = make_site()
    built.reload(NOW)
    return built


def followed(site: Site, remote: RemoteServer, handle: str = "alpha") -> dict[str, Any]:
    """Follow an account from the remote server; return the Follow once its Accept arrived."""
    follow, answer = remote.follow(site.actor(handle))
    assert answer.status_code == 202, answer.text
    assert site.pump(lambda: bool(remote.activities("Accept")))
    return follow


def test_a_follow_is_accepted_and_posts_arrive_signed_in_order(
    site: Site, remote: RemoteServer, write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """Follow -> a signed Accept; a new post -> Create; an edit -> Update; a deletion -> Delete, in that order."""
    follow = followed(site, remote)
    accepted = remote.activities("Accept")[0]
    assert accepted.signer == site.actor("alpha")  # bovine checked the signature with the key it fetched from us
    assert accepted.path == "/users/reader/inbox"  # the follower's own inbox
    assert accepted.activity["object"]["id"] == follow["id"]
    assert accepted.activity["actor"] == site.actor("alpha")

    write_post(
        "2025-12-31-news.md",
        title="News <b>x</b>",
        date=RECENT,
        categories="[Alpha]",
        tags="[Machine learning, Go]",
        image="{src: 'https://cdn.example.net/camels.jpg', alt: Camels at rest}",
        body="Intro words.\n\nContinue reading\n\nThe rest.\n",
    )
    site.reload(NOW)
    assert site.pump(lambda: bool(remote.activities("Create")))
    create = remote.activities("Create")[0]
    assert create.signer == site.actor("alpha") and create.path == "/inbox"  # the shared inbox
    article = create.activity["object"]
    assert article["type"] == "Article" and article["name"] == "News <b>x</b>"
    assert article["attributedTo"] == site.actor("alpha")
    assert article["url"] == f"{site.url}/posts/news/"
    assert "Intro words." in article["content"] and "The rest." not in article["content"]
    assert f'href="{site.url}/posts/news/"' in article["content"] and article["summary"] == article["content"]
    assert {t["name"] for t in article["tag"]} == {"#MachineLearning", "#Go"}
    image = {"type": "Image", "mediaType": "image/jpeg", "url": "https://cdn.example.net/camels.jpg"}
    assert article["attachment"] == [{**image, "name": "Camels at rest"}]
    assert article["published"] == RECENT
    assert PUBLIC in create.activity["to"] and f"{site.actor('alpha')}/followers" in create.activity["cc"]

    path = posts_dir / "2025-12-31-news.md"
    path.write_text(path.read_text().replace("Intro words.", "Better intro words."))
    site.reload(NOW + timedelta(minutes=1))
    assert site.pump(lambda: bool(remote.activities("Update")))
    update = remote.activities("Update")[0]
    assert update.signer == site.actor("alpha")
    assert update.activity["object"]["id"] == article["id"] and "Better intro" in update.activity["object"]["content"]

    path.unlink()
    site.reload(NOW + timedelta(minutes=2))
    assert site.pump(lambda: bool(remote.activities("Delete")))
    delete = remote.activities("Delete")[0]
    assert delete.signer == site.actor("alpha")
    assert delete.activity["object"]["type"] == "Tombstone" and delete.activity["object"]["id"] == article["id"]
    kinds = [d.activity["type"] for d in remote.activities()]
    assert kinds == ["Accept", "Create", "Update", "Delete"]  # each once, in order; First was there before


def test_an_update_is_dated_when_its_change_was_first_seen(
    site: Site, remote: RemoteServer, write_post: Callable[..., Path], posts_dir: Path
) -> None:
    """A new image, then a new tag (no edit of the text: the post's own updated stays): each Update's `updated` is
    the time its change was first seen, later than the last; the article served keeps it across a restart."""
    followed(site, remote)
    image = "{src: 'https://cdn.example.net/%s.jpg', alt: Camels}"
    fields = {"title": "News", "date": RECENT, "categories": "[Alpha]"}
    path = write_post("2025-12-31-news.md", image=image % "one", **fields)
    site.reload(NOW)
    assert site.pump(lambda: bool(remote.activities("Create")))
    created = remote.activities("Create")[0].activity["object"]
    assert created["updated"] == RECENT

    write_post(path.name, image=image % "two", **fields)
    site.reload(NOW + timedelta(minutes=1, seconds=30, microseconds=500))
    assert site.pump(lambda: bool(remote.activities("Update")))
    changed = remote.activities("Update")[0].activity["object"]
    assert changed["id"] == created["id"] and changed["attachment"][0]["url"].endswith("/two.jpg")
    assert changed["updated"] == "2026-01-01T12:01:30Z" and changed["updated"] > created["updated"]

    site.reload(NOW + timedelta(minutes=2))  # nothing changed: nothing sent, and the date stays
    site.restart()

    def served() -> dict[str, Any]:
        page = requests.get(f"{site.actor('alpha')}/outbox?page=1", timeout=10).json()
        found: dict[str, Any] = next(i["object"] for i in page["orderedItems"] if i["object"]["name"] == "News")
        return found

    assert served()["updated"] == changed["updated"], "after a restart, before its first reload"
    site.reload(NOW + timedelta(minutes=3))
    assert served()["updated"] == changed["updated"]
    assert requests.get(created["id"], timeout=10).json()["updated"] == changed["updated"]
    assert site.federation.queue.pending() == 0 and len(remote.activities("Update")) == 1

    write_post(path.name, image=image % "two", tags="[Go]", **fields)
    site.reload(NOW + timedelta(minutes=4))
    assert site.pump(lambda: len(remote.activities("Update")) == 2)
    tagged = remote.activities("Update")[1].activity["object"]
    assert [t["name"] for t in tagged["tag"]] == ["#Go"] and tagged["updated"] == "2026-01-01T12:04:00Z"
    assert served()["updated"] == tagged["updated"]


def test_discovery_documents(site: Site) -> None:
    """WebFinger finds each account; its actor document names its page, inbox, outbox, followers, key."""
    host = site.url.removeprefix("http://")
    answer = requests.get(f"{site.url}/.well-known/webfinger", params={"resource": f"acct:alpha@{host}"}, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/jrd+json")
    jrd = answer.json()
    assert jrd["subject"] == f"acct:alpha@{host}"
    self_link = next(link for link in jrd["links"] if link["rel"] == "self")
    assert self_link == {"rel": "self", "type": "application/activity+json", "href": site.actor("alpha")}
    for handle in ("blog", "tag.machine-learning", "author.test-site"):
        resource = f"acct:{handle}@{host}"
        found = requests.get(f"{site.url}/.well-known/webfinger", params={"resource": resource}, timeout=10)
        assert found.status_code == 200, handle
    unknown = requests.get(f"{site.url}/.well-known/webfinger", params={"resource": f"acct:nope@{host}"}, timeout=10)
    assert unknown.status_code == 404

    actor = requests.get(site.actor("alpha"), headers={"Accept": "application/activity+json"}, timeout=10)
    assert actor.headers["Content-Type"].startswith("application/activity+json")
    document = actor.json()
    assert document["id"] == site.actor("alpha") and document["preferredUsername"] == "alpha"
    assert document["name"] == "Test Site — Alpha" and document["url"] == f"{site.url}/category/alpha/"
    assert document["inbox"] == f"{site.actor('alpha')}/inbox"
    assert document["endpoints"]["sharedInbox"] == f"{site.url}/ap/inbox"
    assert document["publicKey"]["owner"] == site.actor("alpha")
    assert "BEGIN PUBLIC KEY" in document["publicKey"]["publicKeyPem"]
    assert requests.get(document["icon"]["url"], timeout=10).headers["Content-Type"] == "image/png"
    html_first = {"Accept": "text/html,*/*;q=0.8"}
    browser = requests.get(site.actor("alpha"), headers=html_first, allow_redirects=False, timeout=10)
    assert browser.status_code == 303 and browser.headers["Location"] == f"{site.url}/category/alpha/"

    host_meta = requests.get(f"{site.url}/.well-known/host-meta", timeout=10)
    assert f'template="{site.url}/.well-known/webfinger?resource={{uri}}"' in host_meta.text

    links = requests.get(f"{site.url}/.well-known/nodeinfo", timeout=10).json()["links"]
    nodeinfo = requests.get(links[0]["href"], timeout=10).json()
    assert nodeinfo["version"] == "2.1" and nodeinfo["protocols"] == ["activitypub"]
    assert nodeinfo["software"]["name"] == "syndicator" and nodeinfo["usage"]["localPosts"] == 1

    outbox = requests.get(document["outbox"], timeout=10).json()
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 1
    page = requests.get(outbox["first"], timeout=10).json()
    assert page["orderedItems"][0]["type"] == "Create" and page["orderedItems"][0]["object"]["name"] == "First"


def test_pages_show_the_handle_beside_the_feed_links(site: Site) -> None:
    """The home page and a category page name the account to follow from Mastodon."""
    host = site.url.removeprefix("http://")
    home = requests.get(f"{site.url}/", timeout=10).text
    assert f"@blog@{host}" in home and f"@alpha@{host}" in home
    category = requests.get(f"{site.url}/category/alpha/", timeout=10).text
    assert f"@alpha@{host}" in category
    assert f'<link rel="alternate" type="application/activity+json" href="{site.actor("alpha")}">' in category


def test_private_keys_are_kept_mode_0600_and_reused(site: Site, make_settings: Callable[..., Settings]) -> None:
    """Each account's key is made once, kept under state_dir for its owner only, and the same after a restart."""
    before = requests.get(site.actor("alpha"), timeout=10).json()["publicKey"]["publicKeyPem"]
    keys = list((site.settings.state_dir / "fediverse-keys").glob("*.pem"))
    assert keys and all(key.stat().st_mode & 0o777 == 0o600 for key in keys)
    assert (site.settings.state_dir / "fediverse-keys").stat().st_mode & 0o777 == 0o700
    site.restart()
    assert requests.get(site.actor("alpha"), timeout=10).json()["publicKey"]["publicKeyPem"] == before


def test_fediverse_off_answers_nothing(client: Any) -> None:
    """Without `fediverse`, the addresses are unknown."""
    for path in ("/.well-known/webfinger?resource=acct:alpha@example.org", "/.well-known/nodeinfo", "/ap/actors/alpha"):
        assert client.get(path).status_code == 404
    assert client.post("/ap/inbox", data=b"{}").status_code == 404
    assert "@alpha@" not in client.get("/").get_data(as_text=True)


def test_undo_ends_the_follow(site: Site, remote: RemoteServer, write_post: Callable[..., Path]) -> None:
    """Undo(Follow) removes the follower: the next post reaches nobody."""
    follow = followed(site, remote)
    assert site.federation.followers.by_handle() == {"alpha": 1}
    assert remote.undo(follow, f"{site.url}/ap/inbox").status_code == 202
    assert site.federation.followers.by_handle() == {}
    write_post("b.md", title="After", date=RECENT, categories="[Alpha]")
    site.reload(NOW)
    assert site.federation.queue.pending() == 0


def test_json_of_a_post_object(site: Site, remote: RemoteServer) -> None:
    """An article's id answers with the article (Mastodon may look it up)."""
    page = requests.get(f"{site.actor('alpha')}/outbox?page=1", timeout=10).json()
    article = page["orderedItems"][0]["object"]
    fetched = requests.get(article["id"], timeout=10)
    assert fetched.status_code == 200 and json.loads(fetched.text)["id"] == article["id"]
