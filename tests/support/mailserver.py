"""A real SMTP server on a loopback port (aiosmtpd), for tests: keeps what arrives, answers RCPT as scripted."""

from __future__ import annotations

import datetime
import email
import ipaddress
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from aiosmtpd.smtp import LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Arrived:
    """One message as the server took it: the envelope and the message parsed by the standard library."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes


class Inbox:
    """The server's handler: RCPT answers the next scripted reply (then ``always``, else 250); DATA keeps it."""

    def __init__(self) -> None:
        self.arrived: list[Arrived] = []
        self.script: deque[str] = deque()
        self.always: str | None = None
        self.rcpt_seen = 0
        self.login_required = False
        self._changed = threading.Condition()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self._changed:
            self.rcpt_seen += 1
            self._changed.notify_all()
        if self.login_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        reply = self.script.popleft() if self.script else self.always
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.content)
        message = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._changed:
            self.arrived.append(Arrived(envelope.mail_from, tuple(envelope.rcpt_tos), message, raw))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait(self, count: int, timeout: float = 20.0, *, attempts: bool = False) -> list[Arrived]:
        """Wait until ``count`` messages arrived (or RCPTs were answered, with ``attempts``); fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while (self.rcpt_seen if attempts else len(self.arrived)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.arrived)} mails arrived ({self.rcpt_seen} RCPTs), not {count}")
                self._changed.wait(left)
            return list(self.arrived)

    def to(self, address: str) -> list[EmailMessage]:
        return [a.message for a in self.arrived if address in a.rcpt_tos]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, as a relay on a test's loopback presents: (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "relay.pem", folder / "relay.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class MailServer:
    """aiosmtpd's Controller on 127.0.0.1 and a free port; ``url`` is its smtp_url.

    With ``login`` (user, password), mail is taken only after AUTH with them (over plain SMTP: a test's relay,
    unless ``tls`` is given). ``tls`` = (scheme, certificate, key): ``smtp+starttls`` offers STARTTLS and takes
    no mail (nor login) before it; ``smtps`` speaks TLS from the first byte.
    """

    def __init__(self, login: tuple[str, str] | None = None, tls: tuple[str, Path, Path] | None = None) -> None:
        self.inbox = Inbox()
        self.logins: list[tuple[str, str]] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        options: dict[str, Any] = {}
        if login is not None:
            # aiosmtpd counts only a STARTTLS as TLS: under smtps the whole connection is, from the first byte
            starttls = tls is not None and tls[0] == "smtp+starttls"
            options = {"auth_require_tls": starttls, "authenticator": self._check(login)}
            self.inbox.login_required = True
        scheme = "smtp"
        if tls is not None:
            scheme, cert_file, key_file = tls
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert_file, key_file)
            if scheme == "smtps":
                options["ssl_context"] = context
            else:
                options |= {"tls_context": context, "require_starttls": True}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def _check(self, login: tuple[str, str]) -> Any:
        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            assert isinstance(data, LoginPassword)
            given = (data.login.decode(), data.password.decode())
            self.logins.append(given)
            return AuthResult(success=given == login, handled=False)  # handled=False: aiosmtpd answers 535

        return authenticator

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and the HTML part of a mail."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None, "a mail has a text and an HTML part"
    return str(text.get_content()), str(html.get_content())  # type: ignore[attr-defined]


def link_after(text: str, marker: str) -> str:
    """The first http(s) URL after ``marker`` in a text part."""
    rest = text.split(marker, 1)[1]
    return next(word for word in rest.split() if word.startswith(("http://", "https://")))


class _Forms(HTMLParser):
    """The POST forms of a page: each one's action and the words of its buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str]] = []
        self._action: str | None = None
        self._button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (found.get("method") or "").lower() == "post":
            self._action = found.get("action") or ""
        elif tag == "button" and self._action is not None:
            self._button = True
            self.forms.append((self._action, ""))

    def handle_data(self, data: str) -> None:
        if self._button:
            action, words = self.forms[-1]
            self.forms[-1] = (action, words + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = False
        elif tag == "form":
            self._action = None


def button_action(html: str, label: str) -> str | None:
    """Where the page's POST form whose button reads ``label`` posts to (what a person's press does); None: none."""
    forms = _Forms()
    forms.feed(html)
    return next((action for action, words in forms.forms if words.strip() == label), None)
