"""Following by email through a real `syndicator serve` (SPEC "Following by email"): a reader subscribes to one
category, confirms from the mail, receives the next post of that category (and only it) from a real SMTP server
on loopback, whose links work against the server, and leaves with one click; a damaged mail state stops `serve`
and `subscribers` in one line."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from support.factories import post_text
from support.mailserver import MailServer
from support.mailserver import button_action
from support.mailserver import link_after
from support.mailserver import parts
from support.server import free_port
from support.stalling import partial_request
from support.stalling import turned_away
from syndicator.service.http.followpages import SUBSCRIBE_SLOTS
from syndicator.store.mailstore import MAIL_FILE
from syndicator.store.mailstore import SECRET_FILE

READER = "reader@example.org"
CANARY = "canary@example.org"


@pytest.fixture
def mail_site(tmp_path: Path, start_server: Callable[..., Any]) -> Iterator[tuple[Any, MailServer]]:
    """`serve` over two categories, mailing through the loopback SMTP server."""
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "alpha-1.md").write_text(post_text("Alpha one", categories="[Alpha]"))
    (posts / "beta-1.md").write_text(post_text("Beta one", categories="[Beta]"))
    mail = MailServer().start()
    try:
        env = {"SYNDICATOR_SMTP_URL": mail.url, "SYNDICATOR_EMAIL_FROM": "Test Blog <news@example.org>"}
        yield start_server(tmp_path, **env), mail
    finally:
        mail.stop()


def subscribe_and_confirm(server: Any, mail: MailServer, address: str, client: str) -> None:
    before = len(mail.inbox.arrived)
    data = {"email": address, "feed": "category/alpha", "pace": "instant", "website": ""}
    answer = requests.post(server.url + "/subscribe", data=data, headers={"X-Real-IP": client}, timeout=10)
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    confirmation = mail.inbox.wait(before + 1)[before]
    assert confirmation.rcpt_tos == (address,)
    link = link_after(parts(confirmation.message)[0], "following this link:")
    assert link.startswith(server.url + "/confirm/")
    page = requests.get(link, timeout=10)  # what a mail scanner fetches too: it confirms nothing
    assert page.status_code == 200 and "Confirm your subscription" in page.text
    action = button_action(page.text, "Confirm")
    assert action == link, "the page's button posts the token back"
    confirmed = requests.post(action, timeout=10)
    assert confirmed.status_code == 200 and "Subscribed" in confirmed.text


def publish(server: Any, tmp_path: Path, name: str, title: str, category: str, day: int) -> None:
    """Write a post (dated yesterday, ``day`` hours past this hour: news) and wait until the server publishes it."""
    date = (datetime.now(UTC).replace(microsecond=0) - timedelta(days=1, hours=-day)).isoformat()
    (tmp_path / "posts" / name).write_text(post_text(title, date=date, categories=f"[{category}]"))
    slug = name.removesuffix(".md")
    server.wait_until(lambda: server.get(f"/posts/{slug}/").status_code == 200, what=f"{slug} published")


def test_a_reader_follows_one_category_by_email_and_leaves_with_one_click(
    mail_site: tuple[Any, MailServer], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """Subscribe on the form's endpoint, confirm from the mail, receive only Alpha's next post, one-click out."""
    server, mail = mail_site
    subscribe_and_confirm(server, mail, READER, "192.0.2.1")
    subscribe_and_confirm(server, mail, CANARY, "192.0.2.2")
    publish(server, tmp_path, "beta-2.md", "Beta two", "Beta", 2)  # not the reader's category: queued before, if ever
    publish(server, tmp_path, "alpha-3.md", "Alpha three", "Alpha", 3)
    arrived = mail.inbox.wait(4)
    to_reader = [a.message for a in arrived if a.rcpt_tos == (READER,)]
    assert [m["Subject"] for m in to_reader[1:]] == ["Alpha three"]
    post = to_reader[1]
    assert post["From"] == "Test Blog <news@example.org>" and post["To"] == READER
    assert post["Message-ID"] and post["Date"] is not None
    assert post["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(post)
    more = link_after(text, "Continue reading:")
    assert more == server.url + "/posts/alpha-3/" and f'href="{more}"' in html
    assert requests.get(more, timeout=10).status_code == 200
    unsubscribe = post["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(server.url + "/unsubscribe/")
    raw = next(a.raw for a in arrived if a.message is post)
    assert f"\r\nList-Unsubscribe: <{unsubscribe}>\r\n".encode() in raw, "as a mail client reads it: no encoded word"
    page = requests.get(unsubscribe, timeout=10)
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert "2" in run_cli("subscribers", check=True).stdout.splitlines()[1].split(), "a GET unsubscribes nobody"
    one_click = requests.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert one_click.status_code == 200
    assert run_cli("subscribers", check=True).stdout.splitlines()[1].split()[1:] == ["1", "0", "0", "1"]
    publish(server, tmp_path, "alpha-4.md", "Alpha four", "Alpha", 4)
    arrived = mail.inbox.wait(5)
    assert arrived[-1].rcpt_tos == (CANARY,) and arrived[-1].message["Subject"] == "Alpha four"
    assert [a.message["Subject"] for a in arrived if a.rcpt_tos == (READER,)][1:] == ["Alpha three"]
    log = server.log.read_text()
    assert "mail sent" in log and "@example.org" not in log.replace("news@example.org", "")
    assert "@" not in server.get("/healthz").text


def test_one_mailbox_gets_three_confirmation_mails_whatever_the_addresses_reaching_it(
    mail_site: tuple[Any, MailServer],
) -> None:
    """Twenty requests through the proxy from two clients for addresses that reach one Gmail mailbox (+tags, dots,
    googlemail.com): three mails arrive, each to the address as typed; a canary asked last is mailed after them."""
    server, mail = mail_site
    typed = [f"victim+{n}@gmail.com" for n in range(16)] + ["v.ictim@gmail.com", "Vic.tim@googlemail.com"]
    typed += ["victim@googlemail.com", "victim@gmail.com"]
    for n, address in enumerate(typed):
        data = {"email": address, "feed": "all", "pace": "instant", "website": ""}
        headers = {"X-Forwarded-For": f"203.0.113.{5 + n % 2}"}
        answer = requests.post(server.url + "/subscribe", data=data, headers=headers, timeout=10)
        assert answer.status_code == 200 and "Check your inbox" in answer.text
    canary = {"email": CANARY, "feed": "all", "pace": "instant", "website": ""}
    assert requests.post(server.url + "/subscribe", data=canary, headers={"X-Real-IP": "192.0.2.9"}, timeout=10).ok
    arrived = mail.inbox.wait(4)
    assert [a.rcpt_tos for a in arrived] == [(address,) for address in typed[:3]] + [(CANARY,)]


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [(MAIL_FILE, b"not a database, " * 64, "is damaged (file is not a database)"), (SECRET_FILE, b"xyz\n", "")],
    ids=["database", "secret"],
)
def test_a_damaged_mail_state_stops_serve_and_subscribers_with_one_line(
    tmp_path: Path, name: str, data: bytes, why: str, run_cli: Callable[..., Any]
) -> None:
    """A damaged email.sqlite3 or email-secret: `serve` (with smtp_url) and `subscribers` exit 1 naming it."""
    (tmp_path / "posts").mkdir()
    state = tmp_path / ".syndicator"
    state.mkdir()
    (state / name).write_bytes(data)
    if name == SECRET_FILE:
        (state / MAIL_FILE).touch()  # the command opens the database only where there is one
    env = {"SYNDICATOR_SMTP_URL": "smtp://127.0.0.1:9", "SYNDICATOR_EMAIL_FROM": "n@example.org"}
    port = str(free_port())
    for command in (["serve", "--port", port], ["subscribers", "--export"]):
        ran = run_cli(*command, env=env, timeout=60)
        if name == SECRET_FILE and command[0] == "subscribers":
            assert ran.returncode == 0, "the export needs no key"
            continue
        assert ran.returncode == 1, ran.stderr
        assert ran.stderr.strip().splitlines() == [ran.stderr.strip()] and "Traceback" not in ran.stderr
        assert f"state file {state / name}" in ran.stderr and why in ran.stderr


def test_feeds_are_answered_while_slow_subscribe_bodies_hold_connections(mail_site: tuple[Any, MailServer]) -> None:
    """Twice as many stalled POST /subscribe bodies as there are slots: the rest are turned away at once (503), the
    feeds and pages are answered all along, and the form works again once the slow clients are gone."""
    server, mail = mail_site
    stalled = []
    for n in range(2 * SUBSCRIBE_SLOTS):  # from as many readers (the loopback proxy names them), under the rate limit
        head = (
            f"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nX-Real-IP: 198.51.100.{n + 1}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        ).encode()
        stalled.append(partial_request(server.port, head, b"email="))
    try:
        assert len(turned_away(stalled, SUBSCRIBE_SLOTS, server.wait_until)) == SUBSCRIBE_SLOTS
        for path in ("/feeds/all.atom", "/feeds/category/alpha.atom", "/", "/category/alpha/"):
            assert requests.get(server.url + path, timeout=10).status_code == 200
    finally:
        for sock in stalled:
            sock.close()
    probes = iter(range(1, 250))

    def slot_free() -> bool:  # a body over the limit takes a slot and is answered 413 at once (503: none free yet)
        headers = {"X-Real-IP": f"203.0.113.{next(probes)}", "Content-Type": "application/x-www-form-urlencoded"}
        return requests.post(server.url + "/subscribe", data="x" * 5000, headers=headers, timeout=10).status_code == 413

    server.wait_until(slot_free, what="the slots freed by the slow clients")
    subscribe_and_confirm(server, mail, READER, "192.0.2.77")
