"""Following by email through a real `syndicator serve` (SPEC "Following by email"): a reader subscribes to one
category, confirms from the mail, receives the next post of that category (and only it) from a real SMTP server
on loopback, whose links work against the server, and leaves with one click."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import post_text
from support.mailserver import MailServer
from support.mailserver import button_action
from support.mailserver import link_after
from support.mailserver import parts

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


def subscribers(tmp_path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "syndicator", "subscribers"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_reader_follows_one_category_by_email_and_leaves_with_one_click(
    mail_site: tuple[Any, MailServer], tmp_path: Path
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
    assert "2" in subscribers(tmp_path).splitlines()[1].split(), "a GET unsubscribes nobody"
    one_click = requests.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert one_click.status_code == 200
    assert subscribers(tmp_path).splitlines()[1].split()[1:] == ["1", "0", "0", "1"]
    publish(server, tmp_path, "alpha-4.md", "Alpha four", "Alpha", 4)
    arrived = mail.inbox.wait(5)
    assert arrived[-1].rcpt_tos == (CANARY,) and arrived[-1].message["Subject"] == "Alpha four"
    assert [a.message["Subject"] for a in arrived if a.rcpt_tos == (READER,)][1:] == ["Alpha three"]
    log = server.log.read_text()
    assert "mail sent" in log and "@example.org" not in log.replace("news@example.org", "")
    assert "@" not in server.get("/healthz").text
