"""service/smtp: mail handed to the operator's relay as smtp_url says, over TLS when it says so.

Each relay is a real aiosmtpd server on loopback. The TLS ones present a
certificate of their own, trusted through SSL_CERT_FILE as an operator's CA
bundle would be; no mail and no password ever crosses a connection that is
not the one smtp_url asks for.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from support.mailserver import MailServer
from support.mailserver import self_signed
from syndicator.config import Settings
from syndicator.service.smtp import SENT
from syndicator.service.smtp import TEMPORARY
from syndicator.service.smtp import Relay

READER = "reader@example.net"
LOGIN = ("news", "s3cret pass")


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Test Site <news@example.org>"
    mail["To"] = READER
    mail["Subject"] = "A new post"
    mail.set_content("The excerpt.\n")
    return mail


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The relay's certificate in the CA bundle OpenSSL reads (as an operator's own CA would be)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    return certificate


def started(server: MailServer) -> Iterator[MailServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def relay_for(url: str, login: tuple[str, str] | None = LOGIN) -> Relay:
    if login is not None:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{login[0]}:{login[1].replace(' ', '%20')}@{rest}"
    return Relay(Settings(smtp_url=url, email_from="Test Site <news@example.org>"), timeout=10)


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_a_mail_goes_out_over_tls_with_the_login(scheme: str, trusted: tuple[Path, Path]) -> None:
    """STARTTLS before AUTH (the relay takes no login in clear), or TLS from the first byte: the mail arrives."""
    for server in started(MailServer(login=LOGIN, tls=(scheme, *trusted))):
        relay = relay_for(server.url)
        try:
            assert relay.send(message(), READER).outcome == SENT
            assert relay.send(message(), READER).outcome == SENT  # on the connection kept
        finally:
            relay.close()
        arrived = server.inbox.wait(2)
        assert [a.rcpt_tos for a in arrived] == [(READER,), (READER,)]
        assert arrived[0].message["Subject"] == "A new post"
        assert server.logins == [LOGIN]


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_a_relay_whose_certificate_is_not_trusted_gets_nothing(scheme: str, certificate: tuple[Path, Path]) -> None:
    """A certificate that does not verify: a temporary failure (retried later), no password, no mail."""
    for server in started(MailServer(login=LOGIN, tls=(scheme, *certificate))):
        relay = relay_for(server.url)
        result = relay.send(message(), READER)
        relay.close()
        assert result.outcome == TEMPORARY and "certificate" in result.reason.lower(), result
        assert server.logins == [] and server.inbox.arrived == []


def test_starttls_asked_of_a_relay_without_it_sends_nothing_in_clear(trusted: tuple[Path, Path]) -> None:
    """smtp+starttls to a relay that offers no STARTTLS: a temporary failure; the login and the mail stay here."""
    for server in started(MailServer(login=LOGIN)):  # plain SMTP, AUTH allowed in clear
        relay = relay_for(server.url.replace("smtp://", "smtp+starttls://"))
        result = relay.send(message(), READER)
        relay.close()
        assert result.outcome == TEMPORARY, result
        assert server.logins == [] and server.inbox.arrived == []
