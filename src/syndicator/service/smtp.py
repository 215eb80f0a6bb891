"""Sending one mail through the operator's relay (smtp_url), with the standard library's smtplib.

``smtp://`` speaks plain SMTP (a relay on the same host), ``smtp+starttls://``
upgrades with STARTTLS before logging in, ``smtps://`` speaks TLS from the
start. Each send says how it went: sent, a temporary failure (a 4xx reply, a
refused or broken connection: try again later) or a permanent one (a 5xx
reply to the recipient or the message). The connection is kept for the next
mail and opened again after an error.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote
from urllib.parse import urlsplit

from syndicator.config import Settings

SMTP_TIMEOUT = 30.0  # seconds for each step of a conversation with the relay
SENT, TEMPORARY, PERMANENT = "sent", "temporary", "permanent"
PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}  # smtp_url's schemes (config checks them): default ports


@dataclass(frozen=True, slots=True)
class Result:
    """How a send went: SENT, TEMPORARY or PERMANENT, with the relay's reply code (0: none) and why."""

    outcome: str
    code: int = 0
    reason: str = ""


def _failure(code: int, reason: bytes | str) -> Result:
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else reason
    return Result(PERMANENT if 500 <= code < 600 else TEMPORARY, code, " ".join(text.split())[:200])


class Relay:
    """The operator's SMTP relay, as smtp_url names it; one connection at a time, kept between mails."""

    def __init__(self, settings: Settings, timeout: float = SMTP_TIMEOUT) -> None:
        split = urlsplit(settings.smtp_url)
        self.scheme = split.scheme
        self.host = split.hostname or ""
        self.port = split.port or PORTS[split.scheme]
        self.user = unquote(split.username or "")
        self.password = unquote(split.password or "")
        self.sender = parseaddr(settings.email_from)[1]
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage, recipient: str) -> Result:
        """Hand one message to the relay for one recipient."""
        try:
            smtp = self._connected()
            smtp.send_message(message, self.sender, [recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = exc.recipients.get(recipient, (450, b"refused"))
            return _failure(code, reason)
        except (
            smtplib.SMTPSenderRefused
        ) as exc:  # the relay refuses email_from: the operator's to fix, not the reader's
            self.close()
            return Result(TEMPORARY, exc.smtp_code, f"sender refused: {exc.smtp_error!r}"[:200])
        except smtplib.SMTPResponseException as exc:  # DATA refused, or an error reply to HELO, STARTTLS, AUTH
            self.close()
            if exc.smtp_code in (530, 534, 535, 538):  # authentication: a setting to fix, not a bounce
                return Result(TEMPORARY, exc.smtp_code, "the relay refused the login")
            return _failure(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:  # no connection, TLS failed, the relay hung up
            self.close()
            return Result(TEMPORARY, 0, f"{type(exc).__name__}: {exc}"[:200])
        return Result(SENT, 250)

    def _connected(self) -> smtplib.SMTP:
        if self._smtp is not None:
            try:
                self._smtp.rset()  # the relay may have closed an idle connection
                return self._smtp
            except (smtplib.SMTPException, OSError):
                self.close()
        context = ssl.create_default_context()
        if self.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        self._smtp = smtp
        smtp.ehlo()
        if self.scheme == "smtp+starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if self.user:
            smtp.login(self.user, self.password)
        return smtp

    def close(self) -> None:
        """Say QUIT (or just drop a broken connection)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
