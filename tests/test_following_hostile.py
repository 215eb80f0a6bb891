"""Following by email against hostile input (SPEC "Following by email", Abuse): none sends a mail it should not
or stores an address it should not, and no answer tells whether an address is known."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from support.factories import NOW
from support.mailserver import MailServer
from support.mailserver import button_action
from support.mailserver import link_after
from support.mailserver import parts
from support.mailsite import READER
from support.mailsite import Clock
from support.mailsite import Site
from support.mailsite import open_site
from syndicator.config import Settings
from syndicator.core.mailtoken import make_token
from syndicator.core.mailtoken import unsubscribe_token
from syndicator.store.mailstore import ASKS_A_DAY
from syndicator.store.mailstore import ASKS_AN_HOUR
from syndicator.store.mailstore import MAIL_FILE


def stored(site: Site, address: str = "") -> int:
    """Rows of the mail database that hold an address (or this one)."""
    with sqlite3.connect(site.settings.state_dir / MAIL_FILE) as db:
        rows = 0
        for table in ("pending", "subscribers", "outbox"):
            query = f"SELECT address FROM {table}"  # noqa: S608 - our own table names
            rows += sum(1 for (found,) in db.execute(query) if address in found)
    return rows


@pytest.mark.parametrize(
    "email",
    [
        "",
        "not an address",
        "reader@",
        "@example.org",
        "reader@localhost",
        "reader@example.test",
        "a" * 65 + "@example.org",
        "reader@" + "b" * 250 + ".org",
        "x" * 3000,
        "reader@example.org\r\nBcc: victim@example.org",
        "reader@example.org\nSubject: injected",
        "victim@example.org, reader@example.org",
        "Reader <reader@example.org>",
        '"reader"@example.org',
        "reader@[127.0.0.1]",
    ],
)
def test_invalid_oversized_and_injected_addresses_are_refused(site: Site, email: str) -> None:
    """400, nothing stored, nothing sent."""
    answer = site.subscribe(email)
    assert answer.status_code == 400
    site.send()
    assert site.server.inbox.arrived == [] and stored(site) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("feed", "category/alpha\r\nBcc: victim@example.org"),
        ("feed", "category/nope"),
        ("feed", "../../etc/passwd"),
        ("feed", "all/"),
        ("pace", "hourly"),
        ("pace", "instant\r\nBcc: victim@example.org"),
    ],
)
def test_line_breaks_and_unknown_values_in_other_fields_are_refused(site: Site, field: str, value: str) -> None:
    """A feed or pace with CR/LF, or one this site has not: 400, nothing stored or sent."""
    answer = site.subscribe(**{field: value})
    assert answer.status_code == 400
    site.send()
    assert site.server.inbox.arrived == [] and stored(site) == 0


def test_a_title_with_line_breaks_injects_no_header(site: Site) -> None:
    """A post whose title holds CR/LF and a header: the mail has one subject and no Bcc."""
    site.subscribed(feed="all")
    title = '"Hi\\r\\nBcc: victim@example.org"'  # YAML's double quotes: a real CR LF in the title
    site.write_post("evil.md", text=f"---\ntitle: {title}\ndate: 2025-12-28T10:00:00Z\n---\nBody.\n")
    site.reload()
    site.send()
    mail = site.server.inbox.arrived[-1]
    assert mail.rcpt_tos == (READER,) and mail.message["Bcc"] is None
    assert mail.message["Subject"] == "Hi Bcc: victim@example.org"


def test_ten_requests_a_minute_per_client(site: Site) -> None:
    """The eleventh subscribe request of a client in a minute is 429 (another client is still answered)."""
    answers = [site.subscribe(f"r{n}@example.org", client="198.51.100.7").status_code for n in range(11)]
    assert answers == [200] * 10 + [429]
    refused = site.subscribe("late@example.org", client="198.51.100.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert site.subscribe("other@example.org", client="198.51.100.8").status_code == 200
    site.send()
    assert len(site.server.inbox.arrived) == 11 and stored(site, "late@") == 0


def test_three_confirmation_mails_per_address_a_day(site: Site) -> None:
    """Asked four times from four clients: four identical answers, three mails; the next day, one more."""
    answers = [site.subscribe(READER, client=f"203.0.113.{n}") for n in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.data for a in answers}) == 1
    site.send()
    assert len(site.mails_to()) == 3
    site.subscribe(READER.upper().replace("EXAMPLE.ORG", "example.org"), client="203.0.113.9")
    site.send()
    assert len(site.mails_to()) == 3, "the limit holds whatever the case of the address"
    site.clock.advance(hours=24, seconds=1)
    site.subscribe(READER, client="203.0.113.10")
    site.send()
    assert len(site.mails_to()) == 4


def test_three_confirmation_mails_per_mailbox_a_day(site: Site) -> None:
    """Subaddresses (+tag), Gmail's dots and googlemail.com reach one mailbox: three mails to it in all, each to the
    address as typed, and the subscription confirmed is the typed address's; elsewhere dots make another mailbox."""
    typed = ["victim+1@gmail.com", "v.ictim@gmail.com", "Victim+x@googlemail.com"]
    more = ["victim+2@gmail.com", "vi.ctim@googlemail.com", "victim@gmail.com", "VICTIM+3@GMAIL.COM"]
    answers = [site.subscribe(a, client=f"203.0.113.{n}") for n, a in enumerate(typed + more)]
    assert [a.status_code for a in answers] == [200] * 7 and len({a.data for a in answers}) == 1
    site.send()
    assert [a.rcpt_tos for a in site.server.inbox.arrived] == [(address,) for address in typed]
    assert len(typed) == ASKS_A_DAY
    assert site.confirm(site.server.inbox.arrived[0].message).status_code == 200
    assert [row[0] for row in site.following.subscriptions.export()] == ["victim+1@gmail.com"]
    others = ["reader+1@example.org", "reader+2@example.org", "Reader@example.org", "reader+4@example.org"]
    for n, address in enumerate([*others, "r.eader@example.org"]):
        site.subscribe(address, client=f"198.51.100.{n}")
    site.send()
    assert [a.rcpt_tos[0] for a in site.server.inbox.arrived[3:]] == [*others[:3], "r.eader@example.org"]


@pytest.fixture
def busy_site(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path], mail_server: MailServer
) -> Iterator[Site]:
    """The site, sending as fast as the loopback server takes mail (hundreds of confirmations to send)."""
    write_post("alpha-1.md", title="Alpha one", categories="[Alpha]")
    settings = make_settings(smtp_url=mail_server.url, email_from="news@example.org", email_rate=100_000)
    opened = open_site(settings, Clock(NOW), mail_server, write_post)
    yield opened
    opened.following.stop()


def test_the_site_sends_at_most_asks_an_hour_confirmation_mails(
    busy_site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """Past ASKS_AN_HOUR confirmation mails in an hour (any clients, any addresses) a subscribe request is 503 with
    Retry-After and stores nothing (one warning in the log); what was confirmed before is kept and mailed, a pending
    link still confirms; as the hour slides, the form is answered again."""
    busy_site.subscribed(feed="all")
    assert busy_site.subscribe("pending@example.org", client="192.0.2.2").status_code == 200
    busy_site.clock.advance(minutes=10)
    for n in range(ASKS_AN_HOUR - 3):
        assert busy_site.subscribe(f"r{n}@example.org", client=f"10.0.{n // 10}.1").status_code == 200
    assert busy_site.subscribe("last@example.org", client="192.0.2.3").status_code == 200
    refused = busy_site.subscribe("refused@example.org", client="192.0.2.4")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == str(50 * 60)
    assert b"confirmation mails" in refused.data and stored(busy_site, "refused@") == 0
    busy_site.write_post("new.md", title="New", date="2025-12-28T10:00:00Z")
    busy_site.reload()
    while busy_site.send():
        pass
    assert [m["Subject"] for m in busy_site.mails_to()][1:] == ["New"]
    assert busy_site.confirm(busy_site.mails_to("pending@example.org")[0]).status_code == 200
    assert busy_site.count() == {"all": {"instant": 1}, "category/alpha": {"instant": 1}}
    busy_site.clock.advance(minutes=50, seconds=1)  # the first two asks leave the hour
    assert busy_site.subscribe("refused@example.org", client="192.0.2.4").status_code == 200
    assert busy_site.subscribe("again@example.org", client="192.0.2.5").status_code == 200
    assert busy_site.subscribe("third@example.org", client="192.0.2.6").status_code == 503
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "subscribe requests" in r.message]
    assert len(warnings) == 1 and f"limit={ASKS_AN_HOUR}" in warnings[0].message


def test_the_answer_never_tells_whether_an_address_is_subscribed(site: Site) -> None:
    """A subscribed address and an unknown one get byte-identical answers."""
    site.subscribed()
    known = site.subscribe(READER, client="192.0.2.50")
    unknown = site.subscribe("stranger@example.org", client="192.0.2.51")
    assert (known.status_code, known.data) == (unknown.status_code, unknown.data)


def test_the_honeypot_stores_and_sends_nothing(site: Site) -> None:
    """The hidden field filled in: the same answer as anyone's, nothing stored, nothing sent."""
    trapped = site.subscribe(website="https://spam.example.com/")
    honest = site.subscribe("honest@example.org")
    assert (trapped.status_code, trapped.data) == (honest.status_code, honest.data)
    site.send()
    assert stored(site, READER) == 0 and site.mails_to() == []


@pytest.mark.parametrize("size", [4097, 100_000])
def test_bodies_are_capped(site: Site, size: int) -> None:
    """A subscribe body over 4 KiB is 413 (nothing stored or sent)."""
    body = f"email={READER}&feed=all&pace=instant&x=".encode() + b"a" * size
    form = "application/x-www-form-urlencoded"
    answer = site.client.post("/subscribe", data=body, content_type=form, environ_base={"REMOTE_ADDR": "192.0.2.4"})
    assert answer.status_code == 413
    site.send()
    assert stored(site) == 0 and site.server.inbox.arrived == []


def test_forged_and_expired_confirmation_links_confirm_nothing(site: Site) -> None:
    """A confirmation token altered or signed with another key: 400; a real one after 48 hours: 400."""
    site.subscribe()
    site.send()
    link = link_after(parts(site.mails_to()[0])[0], "following this link:")
    path = urlsplit(link).path
    token = path.rsplit("/", 1)[1]
    kind, data, expires, signature = token.split(".")
    forged = [
        f"{kind}.{data}.{int(expires) + 86400}.{signature}",
        f"{kind}.{data}.{expires}.{'A' * 43}",
        make_token(b"another secret", kind, "guessed-key"),
        "c.x.0.y",
        "../admin",
    ]
    for bad in forged:
        assert site.client.get(f"/confirm/{bad}").status_code in (400, 404), bad
    assert site.count() == {}
    site.clock.advance(hours=48, seconds=1)
    assert site.client.get(path).status_code == 400
    assert site.count() == {}


def test_following_a_confirmation_link_twice_changes_nothing_more(site: Site) -> None:
    """A mail scanner and the reader both follow it: one subscription, both answered alike."""
    site.subscribe()
    site.send()
    first = site.confirm(site.mails_to()[0])
    second = site.confirm(site.mails_to()[0])
    assert first.status_code == second.status_code == 200
    assert site.count() == {"category/alpha": {"instant": 1}}


def test_a_mail_scanner_fetching_the_confirmation_link_subscribes_nobody(site: Site) -> None:
    """GET and HEAD of the link (a scanner prefetching it) show a page with a Confirm button and start nothing;
    nothing but the confirmation is mailed. The button (a POST of the token, to the site) starts it; a forged
    token posted is 400."""
    site.subscribe()
    site.send()
    link = link_after(parts(site.mails_to()[0])[0], "following this link:")
    path = urlsplit(link).path
    for _ in range(3):
        page = site.client.get(path)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        assert button_action(page.get_data(as_text=True), "Confirm") == link
        assert site.client.head(path).status_code == 200
    assert site.count() == {}
    site.write_post("alpha-2.md", title="Alpha two", date="2025-12-28T10:00:00Z", categories="[Alpha]")
    site.reload()
    site.send()
    assert len(site.mails_to()) == 1, "nothing but the confirmation"
    assert site.client.post(path.rsplit(".", 1)[0] + ".AAAA").status_code == 400
    assert site.count() == {}
    answer = site.client.post(path)
    assert answer.status_code == 200 and b"Subscribed" in answer.data
    assert site.count() == {"category/alpha": {"instant": 1}}
    assert b"Subscribed" in site.client.get(path).data, "the link followed again: subscribed, no button"


def test_a_get_to_the_unsubscribe_url_changes_nothing(site: Site) -> None:
    """GET and HEAD (mail scanners prefetch) show a page with a button; the subscription stays."""
    site.subscribed(feed="all")
    site.write_post("new.md", title="New", date="2025-12-28T10:00:00Z")
    site.reload()
    site.send()
    path = urlsplit(site.mails_to()[-1]["List-Unsubscribe"].strip("<>")).path
    for _ in range(3):
        page = site.client.get(path)
        assert page.status_code == 200 and b'method="post"' in page.data
        assert page.headers["Cache-Control"] == "no-store"
        assert site.client.head(path).status_code == 200
    assert site.count() == {"all": {"instant": 1}}
    assert site.client.post(path).status_code == 200
    assert site.count() == {}


def test_forged_unsubscribe_links_unsubscribe_nobody(site: Site) -> None:
    """An unsubscribe token signed with another key, altered, or of another kind: 400 and nobody leaves."""
    site.subscribed(feed="all")
    secret = site.following.secret
    real = unsubscribe_token(secret, "0" * 32, "all")
    kind, data, expires, signature = real.split(".")
    forged = [
        unsubscribe_token(b"another secret", "0" * 32, "all"),
        f"{kind}.{data}.{expires}.{signature[::-1]}",
        make_token(secret, "c", "0" * 32 + " all"),
    ]
    for token in forged:
        assert site.client.post(f"/unsubscribe/{token}").status_code == 400
        assert site.client.get(f"/unsubscribe/{token}").status_code == 400
    assert site.count() == {"all": {"instant": 1}}


def test_addresses_are_never_in_the_log_or_healthz(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    """A whole subscription's life logs no address; /healthz shows a queue count, never an address."""
    caplog.set_level(logging.DEBUG, logger="syndicator")
    site.subscribed(feed="all")
    site.subscribe("bad address@example.org")
    site.write_post("new.md", title="New", date="2025-12-28T10:00:00Z")
    site.reload()
    health = site.client.get("/healthz").get_json()
    assert health["email"] == {"queued": 1}
    site.server.inbox.script.append("451 4.2.0 <reader@example.org> busy")
    site.send()
    site.clock.advance(hours=1)
    site.send()
    site.client.post(urlsplit(site.mails_to()[-1]["List-Unsubscribe"].strip("<>")).path)
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("syndicator")]
    assert logged and not [line for line in logged if "@" in line or "reader" in line]
    assert "@" not in json.dumps(site.client.get("/healthz").get_json())


def test_a_confirmation_never_goes_past_its_48_hours(site: Site) -> None:
    """Asked, then the relay fails for two days: the confirmation is not mailed once its link would be dead."""
    site.server.inbox.always = "451 4.3.0 later"
    site.subscribe()
    site.send()
    site.server.inbox.always = None
    site.clock.advance(days=3)
    site.send()
    assert site.mails_to() == [] and stored(site, READER) == 0


def test_expired_pending_subscriptions_are_forgotten(site: Site) -> None:
    """An address never confirmed is no longer stored two days later (the next request clears it)."""
    site.subscribe()
    site.send()
    site.clock.advance(days=2, seconds=1)
    site.subscribe("other@example.org", client="192.0.2.99")
    assert stored(site, READER) == 0
