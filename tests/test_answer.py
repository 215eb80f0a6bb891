"""One conditional answer for feeds, pages, partner feeds and assets (RFC 9110 §13: preconditions, §14: ranges)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from werkzeug.http import parse_etags

from support.factories import NOW
from support.mediafiles import write_png
from syndicator.config import Settings
from syndicator.served import Served
from syndicator.service.build import Builder
from syndicator.service.http.answer import Form
from syndicator.service.http.answer import HeaderCache
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import headers_of
from syndicator.service.http.app import create_app
from syndicator.service.partners import new_token
from syndicator.service.partners import token_hash
from syndicator.store.partners import PartnerStore

TOKEN = new_token()
KINDS = {  # a URL of each kind, and the headers its request needs
    "feed": ("/feeds/all.atom", {}),
    "archive page": ("/feeds/archive/1.atom", {}),
    "page": ("/posts/a/", {}),
    "partner feed": ("/partners/feeds/all.atom", {"Authorization": f"Bearer {TOKEN}"}),
    "asset": ("/feeds/media/x.png", {}),
}
PAST, FUTURE = "Mon, 01 Jan 2001 00:00:00 GMT", "Sat, 01 Jan 2101 00:00:00 GMT"


class Site:
    """The app's test client, each answer read whole (so an asset's file is closed at once)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, url: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.open(url, headers=headers or {}, buffered=True)

    def head(self, url: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.open(url, method="HEAD", headers=headers or {}, buffered=True)


@pytest.fixture
def site(make_settings: Callable[..., Settings], write_post: Callable[..., Path], posts_dir: Path) -> Site:
    """A test client over a post with an image, an archive page, and a partner whose token is TOKEN."""
    write_png(posts_dir / "x.png", 10, 10)
    write_post("a.md", text="---\ntitle: A\ndate: 2024-05-04\n---\n![x](x.png)\n")
    for n in range(3):
        write_post(f"b{n}.md", title=f"B{n}", date=f"2024-05-0{n + 5}T10:00:00Z")
    settings = make_settings(feed_size=2)
    builder = Builder(settings)
    builder.reload(NOW)
    partners = PartnerStore(settings.state_dir)
    partners.add("acme", token_hash(TOKEN), NOW.timestamp())
    return Site(create_app(settings, builder, partners=partners).test_client())


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_answers_the_same_preconditions(site: Site, kind: str) -> None:
    """Weak If-None-Match (either form's tag) and If-Modified-Since give 304; If-None-Match wins over the date."""
    url, auth = KINDS[kind]
    whole = site.get(url, headers=auth)
    assert whole.status_code == 200, kind
    etag, length = whole.headers["ETag"], whole.headers["Content-Length"]
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f"W/{etag}"}, {"If-Modified-Since": FUTURE}):
        for method in (site.get, site.head):
            unchanged = method(url, headers={**auth, **headers})
            assert unchanged.status_code == 304 and unchanged.data == b"", (kind, headers)
            assert unchanged.headers["ETag"] == etag and "Content-Type" not in unchanged.headers
    changed = site.get(url, headers={**auth, "If-None-Match": '"other"', "If-Modified-Since": FUTURE})
    assert changed.status_code == 200 and changed.data == whole.data
    assert site.get(url, headers={**auth, "If-Modified-Since": PAST}).status_code == 200
    head = site.head(url, headers=auth)
    assert head.status_code == 200 and head.data == b"" and head.headers["Content-Length"] == length


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "asset"])
def test_the_gzip_form_has_its_own_tag_and_either_gets_the_304(site: Site, kind: str) -> None:
    """The gzip body has its own strong ETag; a client that cached one form gets a 304 for the other."""
    url, auth = KINDS[kind]
    plain = site.get(url, headers=auth)
    zipped = site.get(url, headers={**auth, "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["ETag"] != plain.headers["ETag"]
    assert site.get(url, headers={**auth, "If-None-Match": zipped.headers["ETag"]}).status_code == 304
    assert (
        site.get(url, headers={**auth, "If-None-Match": plain.headers["ETag"], "Accept-Encoding": "gzip"}).status_code
        == 304
    )


@pytest.mark.parametrize("kind", KINDS)
def test_if_match_is_evaluated_first(site: Site, kind: str) -> None:
    """RFC 9110 §13.1.1: If-Match naming another tag is 412 for every kind; its own tag or * is answered."""
    url, auth = KINDS[kind]
    etag = site.get(url, headers=auth).headers["ETag"]
    failed = site.get(url, headers={**auth, "If-Match": '"not-this-one"'})
    assert failed.status_code == 412 and failed.data == b"", kind
    for tag in (etag, "*"):
        assert site.get(url, headers={**auth, "If-Match": tag}).status_code == 200, (kind, tag)


@pytest.mark.parametrize("kind", KINDS)
def test_if_unmodified_since_before_the_last_change_is_412(site: Site, kind: str) -> None:
    """RFC 9110 §13.1.4 (as nginx answers): a client whose copy is older than the representation gets 412, a Range
    too (its bytes would be of another version); one not before it, or a date that is no date, is answered."""
    url, auth = KINDS[kind]
    modified = site.get(url, headers=auth).headers["Last-Modified"]
    for headers in ({}, {"Range": "bytes=0-3"}):
        failed = site.get(url, headers={**auth, **headers, "If-Unmodified-Since": PAST})
        assert failed.status_code == 412 and failed.data == b"", (kind, headers)
    for date in (modified, FUTURE, "not a date"):
        assert site.get(url, headers={**auth, "If-Unmodified-Since": date}).status_code == 200, (kind, date)
    assert site.get(url, headers={**auth, "If-Match": "*", "If-Unmodified-Since": PAST}).status_code == 200


def test_if_none_match_wins_over_a_range(site: Site) -> None:
    """RFC 9110 §13.2.2: a client that has the asset gets 304 for a Range request too, not 206."""
    etag = site.get("/feeds/media/x.png").headers["ETag"]
    assert site.get("/feeds/media/x.png", headers={"Range": "bytes=0-3"}).status_code == 206
    assert site.get("/feeds/media/x.png", headers={"Range": "bytes=0-3", "If-None-Match": etag}).status_code == 304


def test_a_range_applies_only_while_if_range_names_the_asset(site: Site) -> None:
    """RFC 9110 §13.1.5: If-Range with the asset's strong ETag, or exactly its Last-Modified, gets the range; a weak
    tag, another tag or any other date gets the whole (as nginx answers: a later date gave the range)."""
    whole = site.get("/feeds/media/x.png")
    etag, modified = whole.headers["ETag"], whole.headers["Last-Modified"]
    cases = ((etag, 206), (modified, 206), (f"W/{etag}", 200), ('"old"', 200), (FUTURE, 200), (PAST, 200))
    for if_range, status in cases:
        answer = site.get("/feeds/media/x.png", headers={"Range": "bytes=2-5", "If-Range": if_range})
        assert answer.status_code == status, if_range
        assert answer.data == (whole.data[2:6] if status == 206 else whole.data)


def test_headers_made_for_one_snapshot_never_reach_the_next() -> None:
    """A request that made its headers while a reload published a new snapshot adds them to its own snapshot's."""
    cache, old, new = HeaderCache(), object(), object()
    taken_by_a_slow_request = cache.of(old)
    assert cache.of(new) == {}  # a reload: the next request takes the new snapshot's headers
    taken_by_a_slow_request["/feeds/all.atom"] = Form([("ETag", '"old"')], [])
    assert cache.of(new) == {}


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        ("gzip", True),
        ("br, gzip;q=0.5", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("*", False),
        ("gzip;q=0, *", False),
    ],
)
def test_gzip_is_sent_as_accept_encoding_asks(site: Site, accept: str, gzipped: bool) -> None:
    """RFC 9110 §12.5.3: gzip only when Accept-Encoding names it (q above 0), the same answer every time it is asked;
    `*` alone is answered plain, as nginx's gzip_static answers it (serve gave gzip: the two differed). A 304 says
    no Content-Encoding (it sends no body), as nginx's does."""
    for _ in range(2):  # the second time from what was remembered of the header
        response = site.get("/feeds/all.atom", {"Accept-Encoding": accept})
        assert (response.headers.get("Content-Encoding") == "gzip") is gzipped, accept
        unchanged = site.get("/feeds/all.atom", {"Accept-Encoding": accept, "If-None-Match": response.headers["ETag"]})
        assert unchanged.status_code == 304 and "Content-Encoding" not in unchanged.headers, accept


ETAG = "3f2a9c"
TAG_TEXT = st.sampled_from([f'"{ETAG}"', f'"{ETAG}-gz"', '"other"', f'W/"{ETAG}"', f'W/"{ETAG}-gz"', "*", f"{ETAG}"])


@hsettings(max_examples=300)
@given(
    st.lists(TAG_TEXT, min_size=1, max_size=3),
    st.sampled_from([", ", ",", " , "]),
    st.sampled_from(["", " "]),
    st.booleans(),
)
def test_if_none_match_is_answered_as_werkzeug_parses_it(tags: list[str], comma: str, pad: str, zipped: bool) -> None:
    """A tag sent back as it was received, weak or strong, of either form, and any list or spacing of tags: 304 exactly
    when Werkzeug's parse of the header names either form's tag (weak comparison), whatever shortcut answers it."""
    served = replace(Served.kept(b"<feed/>", b"gz", "application/atom+xml", NOW.timestamp()), etag=ETAG, zipped=zipped)
    header = pad + comma.join(tags) + pad
    parsed = parse_etags(header)
    expected = parsed.contains_weak(served.etag) or (zipped and parsed.contains_weak(served.gzip_etag))
    environ = {"REQUEST_METHOD": "GET", "HTTP_IF_NONE_MATCH": header}
    found = answer(environ, served, headers_of(served, False, "no-cache"), False)  # type: ignore[arg-type]
    assert found is not None
    assert found[0] == ("304 Not Modified" if expected else "200 OK"), header
