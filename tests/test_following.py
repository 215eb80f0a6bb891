"""Following by email end to end in one process (SPEC "Following by email"): a real SMTP server on loopback
receives the mails, the app answers the form and the links, the builder's reloads bring the posts."""

from __future__ import annotations

import csv
import io
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from conftest import NOW
from conftest import free_port
from support.mailserver import MailServer
from support.mailserver import parts
from support.mailsite import BACKOFF
from support.mailsite import READER
from support.mailsite import Clock
from support.mailsite import Site
from support.mailsite import open_site
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.core.mailplan import Follower
from syndicator.service.audience import Audience
from syndicator.service.http.app import create_app
from syndicator.service.mailer import Pace
from syndicator.store.audience import AudienceStore
from syndicator.store.mailstore import MAIL_FILE
from syndicator.store.mailstore import SECRET_FILE
from syndicator.store.mailstore import MailDb
from syndicator.store.outbox import Outbox
from syndicator.store.partners import PartnerStore


def test_a_reader_subscribes_confirms_receives_only_the_feeds_new_posts_and_leaves(site: Site) -> None:
    """Double opt-in, then one mail per new post of that category only, then one-click unsubscribe."""
    answer = site.subscribe()
    assert answer.status_code == 200 and b"Check your inbox" in answer.data
    site.send()
    (confirmation,) = site.mails_to()
    assert "Confirm your subscription" in confirmation["Subject"]
    site.write_post("alpha-2.md", title="Alpha two", date="2025-12-28T10:00:00Z", categories="[Alpha]")
    site.reload()
    site.send()
    assert len(site.mails_to()) == 1, "nothing but the confirmation before the link is followed"
    assert site.confirm(confirmation).status_code == 200
    site.write_post("alpha-3.md", title="Alpha three", date="2025-12-29T10:00:00Z", categories="[Alpha]")
    site.write_post("beta-2.md", title="Beta two", date="2025-12-29T11:00:00Z", categories="[Beta]")
    site.reload()
    assert site.send() == 1
    mail = site.mails_to()[-1]
    assert mail["Subject"] == "Alpha three"
    assert mail["From"] == "Test Site <news@example.org>" and mail["To"] == READER
    assert mail["Message-ID"].endswith("@example.org>") and mail["Date"].datetime == NOW
    text, html = parts(mail)
    assert "Continue reading: https://example.org/posts/alpha-3/" in text
    assert "Hello." in html and 'href="https://example.org/posts/alpha-3/"' in html
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    answer = site.client.post(urlsplit(unsubscribe).path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and b"Unsubscribed" in answer.data
    assert site.count() == {}
    site.write_post("alpha-4.md", title="Alpha four", date="2025-12-30T10:00:00Z", categories="[Alpha]")
    site.reload()
    assert site.send() == 0
    assert [m["Subject"] for m in site.mails_to()][1:] == ["Alpha three"]


def test_every_mail_carries_list_unsubscribe(site: Site) -> None:
    """The confirmation and each post's mail: List-Unsubscribe and List-Unsubscribe-Post, Message-ID, Date, From."""
    site.subscribed(feed="all")
    site.write_post("new.md", title="New", date="2025-12-28T10:00:00Z")
    site.reload()
    site.send()
    mails = site.mails_to()
    assert len(mails) == 2
    ids = set()
    for mail in mails:
        assert mail["List-Unsubscribe"].startswith("<https://example.org/unsubscribe/")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mail["From"] == site.settings.email_from and mail["Date"] is not None
        ids.add(mail["Message-ID"])
    assert len(ids) == 2


def test_edits_send_nothing(site: Site) -> None:
    """A post edited (title, body, tags) is no new post: no mail."""
    site.subscribed(feed="all")
    site.write_post("alpha-1.md", title="Alpha one, edited", categories="[Alpha]", tags="[Cats, Dogs]", body="New.\n")
    site.reload()
    assert site.send() == 0
    assert len(site.mails_to()) == 1


def test_partner_draft_and_future_posts_are_mailed_only_once_public(site: Site) -> None:
    """A post for partners only, a draft, a future post: no mail; each is mailed once it is public."""
    site.subscribed(feed="all")
    site.write_post("partners.md", title="For partners", date="2025-12-28T10:00:00Z", visibility="partners")
    site.write_post("draft.md", title="A draft", date="2025-12-28T10:00:00Z", draft="true")
    later = (NOW + timedelta(hours=2)).isoformat()
    site.write_post("future.md", title="The future", date=later)
    site.reload()
    assert site.send() == 0
    site.clock.advance(hours=3)
    site.reload()
    site.send()
    assert [m["Subject"] for m in site.mails_to()[1:]] == ["The future"]
    site.write_post("partners.md", title="For partners", date="2025-12-28T10:00:00Z")
    site.write_post("draft.md", title="A draft", date="2025-12-28T10:00:00Z")
    site.reload()
    site.send()
    assert sorted(m["Subject"] for m in site.mails_to()[2:]) == ["A draft", "For partners"]


def test_a_post_made_private_before_its_mail_went_is_not_mailed(site: Site) -> None:
    """Queued, then for partners only before the worker sends it: the mail is dropped."""
    site.subscribed(feed="all")
    site.write_post("new.md", title="Soon private", date="2025-12-28T10:00:00Z")
    site.reload()
    site.write_post("new.md", title="Soon private", date="2025-12-28T10:00:00Z", visibility="partners")
    site.reload()
    assert site.send() == 0
    assert site.following.outbox.waiting() == 0
    assert len(site.mails_to()) == 1


def test_each_post_once_per_address_across_restarts(
    site: Site, make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """A post is mailed once to an address that follows two of its feeds, and never again after a restart;
    a mail queued before a restart is sent after it."""
    site.subscribed(feed="all")
    site.subscribed(feed="category/alpha")
    site.write_post("alpha-2.md", title="Alpha two", date="2025-12-28T10:00:00Z", categories="[Alpha]")
    site.reload()
    site.send()
    site.write_post("alpha-3.md", title="Alpha three", date="2025-12-29T10:00:00Z", categories="[Alpha]")
    site.reload()  # queued, not sent: the process stops
    site.following.stop()
    again = open_site(site.settings, site.clock, site.server, write_post)
    try:
        again.reload()
        again.send()
        assert [m["Subject"] for m in site.mails_to()[2:]] == ["Alpha two", "Alpha three"]
        again.reload()
        assert again.send() == 0
    finally:
        again.following.stop()


def test_a_temporary_failure_is_retried_with_backoff(site: Site) -> None:
    """451 from the relay: the mail waits (the backoff), then goes; nothing is lost or sent twice."""
    site.subscribed(feed="all")
    site.server.inbox.script.append("451 4.3.0 Try again later")
    site.write_post("new.md", title="Retried", date="2025-12-28T10:00:00Z")
    site.reload()
    assert site.send() == 0
    tried = site.server.inbox.rcpt_seen
    site.clock.advance(seconds=BACKOFF / 2)
    assert site.send() == 0 and site.server.inbox.rcpt_seen == tried, "not before the backoff"
    site.clock.advance(seconds=BACKOFF)
    assert site.send() == 1
    assert [m["Subject"] for m in site.mails_to()][1:] == ["Retried"]
    assert site.count() == {"all": {"instant": 1}}


def test_three_permanent_failures_unsubscribe_the_address(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    """550 from the relay: a warning each time (no address in it); the third unsubscribes the address."""
    site.subscribed(feed="all")
    site.subscribed(feed="category/beta")
    caplog.set_level(logging.INFO)
    site.server.inbox.always = f"550 5.1.1 <{READER}>: Recipient address rejected"
    for n in range(3):
        assert site.count(), f"still subscribed after {n} failures"
        site.write_post(f"new-{n}.md", title=f"Bounced {n}", date=f"2025-12-2{n + 7}T10:00:00Z")
        site.reload()
        assert site.send() == 0
        assert site.following.outbox.waiting() == 0, "a permanent failure is not retried"
    assert site.count() == {}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("refused for good" in w for w in warnings) == 3
    assert any("unsubscribed after permanent failures" in w for w in warnings)
    assert not any("@" in r.getMessage() for r in caplog.records if r.name.startswith("syndicator"))


def test_daily_and_weekly_digests(site: Site) -> None:
    """A daily digest at digest_hour lists the posts since the last one; a weekly one on Mondays; none when empty."""
    site.subscribed("day@example.org", feed="category/alpha", pace="daily")
    site.subscribed("week@example.org", feed="all", pace="weekly")
    site.write_post("alpha-2.md", title="Alpha two", date="2025-12-28T10:00:00Z", categories="[Alpha]")
    site.write_post("beta-2.md", title="Beta two", date="2025-12-29T10:00:00Z", categories="[Beta]")
    site.reload()
    assert site.send() == 0, "digests wait for their hour"
    site.clock.now = datetime.fromisoformat("2026-01-02T08:00:00+00:00")  # a Friday, digest_hour 8
    site.reload()
    assert site.send() == 1
    digest = site.mails_to("day@example.org")[-1]
    assert digest["Subject"] == "Test Site — Alpha: 1 new post"
    text, _html = parts(digest)
    assert "Alpha two" in text and "Beta two" not in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    site.clock.now = datetime.fromisoformat("2026-01-03T09:00:00+00:00")
    assert site.send() == 0, "no digest when nothing is new"
    site.clock.now = datetime.fromisoformat("2026-01-05T08:30:00+00:00")  # Monday
    assert site.send() == 1
    weekly = site.mails_to("week@example.org")[-1]
    assert weekly["Subject"] == "Test Site: 2 new posts"
    text, _html = parts(weekly)
    assert text.index("Beta two") < text.index("Alpha two")
    site.clock.now = datetime.fromisoformat("2026-01-12T08:30:00+00:00")
    assert site.send() == 0


def test_the_rate_limit_spaces_the_sends() -> None:
    """email_rate 10: the eleventh mail in the same instant waits a second."""
    pace = Pace(10)
    waits = [pace.wait(100.0) for _ in range(11)]
    assert waits[0] == 0 and waits[-1] == pytest.approx(1.0)
    assert pace.wait(200.0) == 0


def test_the_addresses_and_the_secret_are_the_owners_only(site: Site) -> None:
    """email.sqlite3 and email-secret under state_dir: mode 0600."""
    site.subscribed()
    for name in (MAIL_FILE, SECRET_FILE):
        assert stat.S_IMODE(os.stat(site.settings.state_dir / name).st_mode) == 0o600


def test_the_form_is_on_the_home_category_tag_and_author_pages(site: Site) -> None:
    """Each archive page posts its own feed to /subscribe, with a pace and a honeypot; the CSP allows the form."""
    author = next(iter(site.builder.snapshot.catalog.authors))  # type: ignore[union-attr]
    pages = [("/", "all"), ("/category/alpha/", "category/alpha"), ("/tag/cats/", "tag/cats")]
    for path, feed in [*pages, (f"/author/{author}/", f"author/{author}")]:
        page = site.client.get(path)
        body = page.get_data(as_text=True)
        assert 'action="https://example.org/subscribe"' in body
        assert f'name="feed" value="{feed}"' in body and 'name="pace"' in body and 'name="website"' in body
        assert "form-action 'self'" in page.headers["Content-Security-Policy"]


def test_without_smtp_url_there_is_no_form_and_no_endpoint(client: Any) -> None:
    """Mail off: no form on the pages, /subscribe and the links are 404."""
    assert b"/subscribe" not in client.get("/").data
    assert client.post("/subscribe", data={"email": READER, "feed": "all"}).status_code == 404
    assert client.get("/unsubscribe/u.x.0.y").status_code == 404


def test_subscribers_and_stats_count_email_subscribers_per_feed_and_pace(
    site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`syndicator subscribers` counts per feed and pace (no address); --export lists them; `stats` and /stats/ too."""
    site.subscribed(feed="all")
    site.subscribed("day@example.org", feed="category/alpha", pace="daily")
    site.subscribed("week@example.org", feed="category/alpha", pace="weekly")
    site.subscribe("unconfirmed@example.org", feed="category/alpha", client="192.0.2.77")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYNDICATOR_STATE_DIR", str(site.settings.state_dir))
    runner = CliRunner()
    counts = runner.invoke(cli, ["subscribers"], catch_exceptions=False)
    assert counts.exit_code == 0
    assert [line.split() for line in counts.output.splitlines()] == [
        ["feed", "instant", "daily", "weekly", "total"],
        ["category/alpha", "0", "1", "1", "2"],
        ["all", "1", "0", "0", "1"],
    ]
    exported = runner.invoke(cli, ["subscribers", "--export"], catch_exceptions=False).output
    rows = {(row["address"], row["feed"], row["pace"]) for row in csv.DictReader(io.StringIO(exported))}
    assert rows == {
        (READER, "all", "instant"),
        ("day@example.org", "category/alpha", "daily"),
        ("week@example.org", "category/alpha", "weekly"),
    }
    stats = runner.invoke(cli, ["stats"], catch_exceptions=False).output
    assert "Email subscribers" in stats and "category/alpha" in stats and "@" not in stats
    settings = replace(site.settings, stats_token="s3cret")  # noqa: S106 - a test's token
    partners = PartnerStore(settings.state_dir)
    audience = Audience(AudienceStore(settings.state_dir), partners)
    app = create_app(settings, site.builder, partners=partners, audience=audience, following=site.following)
    page = app.test_client().get("/stats/", headers={"Authorization": "Bearer s3cret"}).get_data(as_text=True)
    section = page.split('class="stats email"', 1)[1].split("</section>", 1)[0]
    assert "category/alpha" in section and '<td class="number">2</td>' in section and "@" not in section


def test_no_database_no_subscribers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`syndicator subscribers` where nobody ever subscribed says so, and creates no database."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["subscribers"], catch_exceptions=False)
    assert result.output == "no email subscribers\n"
    assert not (tmp_path / ".syndicator" / MAIL_FILE).exists()


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [(MAIL_FILE, b"not a database, " * 64, "is damaged (file is not a database)"), (SECRET_FILE, b"xyz\n", "")],
    ids=["database", "secret"],
)
def test_a_damaged_mail_state_stops_serve_and_subscribers_with_one_line(
    tmp_path: Path, name: str, data: bytes, why: str
) -> None:
    """A damaged email.sqlite3 or email-secret: `serve` (with smtp_url) and `subscribers` exit 1 naming it."""
    (tmp_path / "posts").mkdir()
    state = tmp_path / ".syndicator"
    state.mkdir()
    (state / name).write_bytes(data)
    if name == SECRET_FILE:
        (state / MAIL_FILE).touch()  # the command opens the database only where there is one
    env = {**os.environ, "SYNDICATOR_SMTP_URL": "smtp://127.0.0.1:9", "SYNDICATOR_EMAIL_FROM": "n@example.org"}
    port = str(free_port())
    for command in (["serve", "--port", port], ["subscribers", "--export"]):
        ran = subprocess.run(
            [sys.executable, "-m", "syndicator", *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if name == SECRET_FILE and command[0] == "subscribers":
            assert ran.returncode == 0, "the export needs no key"
            continue
        assert ran.returncode == 1, ran.stderr
        assert ran.stderr.strip().splitlines() == [ran.stderr.strip()] and "Traceback" not in ran.stderr
        assert f"state file {state / name}" in ran.stderr and why in ran.stderr


def test_a_form_without_feed_or_pace_follows_every_post(site: Site) -> None:
    """Only an address: the whole site, each new post (the defaults)."""
    answer = site.client.post("/subscribe", data={"email": READER}, environ_base={"REMOTE_ADDR": "192.0.2.3"})
    assert answer.status_code == 200
    site.send()
    assert site.confirm(site.mails_to()[0]).status_code == 200
    assert site.count() == {"all": {"instant": 1}}


def test_the_relay_login_comes_from_smtp_url_and_a_refused_login_is_no_bounce(
    make_settings: Callable[..., Settings], write_post: Callable[..., Path]
) -> None:
    """smtp://user:pass@host (percent-decoded) logs in; a wrong password is retried later, never a bounce."""
    relay = MailServer(login=("news@example.org", "p@ss:w/rd")).start()
    try:
        write_post("alpha-1.md", title="Alpha one", categories="[Alpha]")
        host = relay.url.removeprefix("smtp://")
        wrong = make_settings(smtp_url=f"smtp://news%40example.org:nope@{host}", email_from="news@example.org")
        site = open_site(wrong, Clock(NOW), relay, write_post)
        for n in range(4):
            site.subscribe(f"r{n}@example.org", feed="all", client=f"192.0.2.{n}")
            site.send()
            site.clock.advance(hours=7)
        assert relay.inbox.arrived == [] and relay.logins[0] == ("news@example.org", "nope")
        assert site.following.outbox.waiting() == 4, "refused logins are tried again, not bounces"
        site.following.stop()
        right = replace(wrong, smtp_url=f"smtp://news%40example.org:p%40ss%3Aw%2Frd@{host}")
        site = open_site(right, site.clock, relay, write_post)
        assert site.send() == 4
        assert relay.logins[-1] == ("news@example.org", "p@ss:w/rd")
        site.following.stop()
    finally:
        relay.stop()


def test_a_mail_planned_twice_is_queued_once(tmp_path: Path) -> None:
    """Two reloads finishing together, or a digest after an instant mail: the (address, post) pair goes once."""
    mail = MailDb(tmp_path)
    outbox = Outbox(mail)
    instant = Follower(READER, "key", "all", "instant")
    daily = Follower(READER, "key", "category/alpha", "daily")
    outbox.publish(["p1"], [(instant, "p1")], NOW)
    outbox.publish(["p1"], [(instant, "p1")], NOW)
    outbox.queue_digest(daily, ["p1", "p2"], NOW, NOW)
    outbox.queue_digest(daily, ["p1", "p2"], NOW, NOW)
    assert [(q.kind, q.post_ids) for q in outbox.take_due(NOW, 10)] == [("post", ["p1"]), ("daily", ["p2"])]
    mail.close()
