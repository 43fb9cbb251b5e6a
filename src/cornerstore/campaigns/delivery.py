"""Delivering rendered messages: SMTP through the standard library, or a CSV file for another tool.

SMTP reuses one connection for the whole send (reconnecting if the server drops it). A 4xx
answer means "try later": the message is tried again after a back-off that doubles, up to the
configured number of retries. A 5xx answer is final: the recipient fails at once, with the
server's code in the reason. A server that cannot be reached at all (refused, no answer, a
failed STARTTLS or login) is tried with the same back-off once; after that the sender is
``unreachable`` and every further message fails at once with that reason, untried, so a send
with the server down stops within one back-off instead of waiting it out for each recipient.

Each message carries ``List-Unsubscribe`` with an HTTPS link and a ``mailto:``-free one-click
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058).
"""

from __future__ import annotations

import base64
import email.policy
import hashlib
import hmac
import logging
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import IO

from cornerstore.errors import InvalidInput
from cornerstore.settings import CampaignSettings
from cornerstore.spreadsheet_csv import spreadsheet_writer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One rendered message for one customer."""

    customer_id: str
    to: str
    subject: str
    text: str
    html: str | None
    unsubscribe_url: str | None
    coupon: str | None = None


@dataclass(frozen=True)
class Delivered:
    """What became of one message: sent, or failed with the reason."""

    customer_id: str
    sent: bool
    reason: str | None


# -- unsubscribe tokens -----------------------------------------------------------------------


def sign_unsubscribe(key: bytes, campaign_id: int, customer_id: str, purpose: str) -> str:
    """A URL-safe token naming campaign, customer and purpose, signed with HMAC-SHA-256.

    >>> token = sign_unsubscribe(b"k", 3, "cus_1", "marketing_email")
    >>> read_unsubscribe(b"k", token)
    (3, 'cus_1', 'marketing_email')
    """
    payload = f"{campaign_id}.{customer_id}.{purpose}".encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(mac)}"


def read_unsubscribe(key: bytes, token: str) -> tuple[int, str, str]:
    """The (campaign id, customer id, purpose) a token names; InvalidInput if it was not
    signed with ``key`` or is malformed (never saying which part was wrong)."""
    bad = InvalidInput("token: not a valid unsubscribe link")
    try:
        payload_text, mac_text = token.split(".")
        payload = _unb64(payload_text)
        mac = _unb64(mac_text)
    except ValueError:
        raise bad from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        raise bad
    try:
        campaign, customer, purpose = payload.decode().split(".")
        return int(campaign), customer, purpose
    except ValueError:
        raise bad from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if len(text) > 400:
        raise ValueError("too long")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- SMTP -------------------------------------------------------------------------------------


# Folded at RFC 5322's hard limit: a List-Unsubscribe link is one long token that the default
# 78-character fold would otherwise turn into encoded words no mail client follows.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


def email_message(message: Outgoing, sender: str) -> EmailMessage:
    """The MIME message: text part, HTML alternative, unsubscribe headers (RFC 2369, 8058)."""
    mail = EmailMessage(policy=_POLICY)
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    if message.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
    return mail


class _CannotConnect(Exception):
    """Opening the SMTP session failed: the server, not the recipient, is the problem."""

    def __init__(self, reason: str, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class SmtpSender:
    """Send messages over one reused SMTP connection, retrying 4xx answers with back-off.

    Use as a context manager; ``sleep`` is replaceable so tests need not wait. Once the
    server could not be reached after the retries, ``unreachable`` says why and every later
    message fails at once with that reason.
    """

    def __init__(
        self, settings: CampaignSettings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self._smtp: smtplib.SMTP | None = None
        self.unreachable: str | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        """A new session, or _CannotConnect naming the server and what went wrong (never the
        password)."""
        cfg = self.settings
        where = f"the SMTP server {cfg.smtp_host}:{cfg.smtp_port}"
        smtp = smtplib.SMTP(timeout=cfg.smtp_timeout_seconds)
        try:
            code, greeting = smtp.connect(cfg.smtp_host, cfg.smtp_port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, greeting)
            if cfg.smtp_starttls:
                smtp.starttls()
            if cfg.smtp_username:
                smtp.login(cfg.smtp_username, cfg.smtp_password or "")
        except smtplib.SMTPResponseException as exc:
            smtp.close()
            said = _answer(exc.smtp_code, exc.smtp_error)
            raise _CannotConnect(
                f"{where} refused the session ({said})", 400 <= exc.smtp_code < 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise _CannotConnect(f"cannot reach {where} ({_why(exc)})", True) from None
        return smtp

    def send(self, message: Outgoing) -> Delivered:
        """Send one message: sent, or failed with the server's answer (never raises)."""
        if self.unreachable is not None:
            return Delivered(message.customer_id, False, self.unreachable)
        mail = email_message(message, self.settings.sender)
        wait = self.settings.smtp_retry_seconds
        reason = "not tried"
        for attempt in range(self.settings.smtp_retries + 1):
            if attempt:
                self.sleep(wait)
                wait *= 2
            try:
                self._send_once(mail)
                return Delivered(message.customer_id, True, None)
            except _CannotConnect as exc:
                reason = exc.reason
                if not exc.transient:
                    self.unreachable = reason
                    break
                if attempt == self.settings.smtp_retries:
                    self.unreachable = reason
            except smtplib.SMTPRecipientsRefused as exc:
                code, said = next(iter(exc.recipients.values()))
                reason = _answer(code, said)
                if code == 421:  # the server is closing the connection
                    self._drop()
                if not 400 <= code < 500:
                    break
            except smtplib.SMTPResponseException as exc:
                reason = _answer(exc.smtp_code, exc.smtp_error)
                if exc.smtp_code == 421:  # the server is closing the connection
                    self._drop()
                if not 400 <= exc.smtp_code < 500:
                    break
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                # The connection went away (a 421 often ends it): reconnect and try again.
                reason = f"connection lost ({type(exc).__name__})"
                self._drop()
            except smtplib.SMTPException as exc:
                reason = f"smtp error ({type(exc).__name__})"
                break
        return Delivered(message.customer_id, False, reason)

    def _send_once(self, mail: EmailMessage) -> None:
        """Send on the open connection; one the server closed since the last message (idle
        timeout, a 421 to someone else) is reopened without counting as a try."""
        fresh = self._smtp is None
        try:
            self._connection().send_message(mail)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            if fresh:
                raise
            self._connection().send_message(mail)

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _why(exc: BaseException) -> str:
    """What went wrong opening a connection, in words: "connection refused", "timed out"."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = " ".join(str(exc).split())[:200]
    return text.lower() if text else type(exc).__name__


def _answer(code: int, said: bytes | str) -> str:
    text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
    return f"smtp {code}: {' '.join(text.split())[:200]}"


# -- CSV export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = ("customer_id", "email", "subject", "text", "html", "coupon", "unsubscribe_url")


def open_export(path: Path) -> IO[str]:
    """Open the export file for writing (refusing to overwrite one), header written."""
    try:
        out = path.open("x", newline="", encoding="utf-8")
    except FileExistsError:
        raise InvalidInput(f"output: {path.name} exists already; choose a new file") from None
    except OSError as exc:
        raise InvalidInput(f"output: cannot write there ({exc.strerror})") from None
    spreadsheet_writer(out).writerow(EXPORT_COLUMNS)
    return out


def export_rows(out: IO[str], messages: Iterable[Outgoing]) -> list[Delivered]:
    """Write messages as CSV rows; each is then delivered as far as cornerstore is concerned.

    Customer text that a spreadsheet would run as a formula is quoted (see
    :mod:`cornerstore.spreadsheet_csv`)."""
    writer = spreadsheet_writer(out)
    done = []
    for m in messages:
        writer.writerow(
            [
                m.customer_id,
                m.to,
                m.subject,
                m.text,
                m.html or "",
                m.coupon or "",
                m.unsubscribe_url,
            ]
        )
        done.append(Delivered(m.customer_id, True, None))
    return done
