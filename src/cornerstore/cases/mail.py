"""E-mail in: an mbox file, a Maildir or a folder of ``.eml`` files read with the standard
library's :mod:`email`, threaded into cases by Message-ID, In-Reply-To and References.

Each message becomes a message on a case: a reply (its In-Reply-To or References naming a
message already stored) joins that message's case, anything else opens a new one. The sender
is placed like every other (see :meth:`Cases.place_sender`); mail the shop sent itself (a
``From`` among ``shop_emails``) is an agent's reply. Attachments are listed by name, type and
size; their content is never kept. A message already stored (by Message-ID) is skipped, so an
import can run twice. A file that is not an e-mail is reported by name and the rest imported.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

from cornerstore.cases.model import Attachment
from cornerstore.errors import InvalidInput

# What a message id looks like between its angle brackets.
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,500})>")
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MailItem:
    """One parsed e-mail: what the contact centre needs of it."""

    origin: str  # the file (and position in an mbox) it came from
    message_id: str
    in_reply_to: tuple[str, ...]  # In-Reply-To first, then References newest first
    sender_email: str
    sender_name: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    sent_at: datetime
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class MailFailure:
    """A file or message that could not be read, and why (never its content)."""

    origin: str
    reason: str


@dataclass
class MailImportResult:
    """What an import did."""

    read: int = 0
    imported: int = 0  # messages stored
    cases_opened: int = 0
    replies: int = 0  # messages that joined an existing case
    duplicates: int = 0  # already stored
    failed: list[MailFailure] = field(default_factory=list)


def readable(raw: str | None) -> str:
    """A header's text with bytes that were not UTF-8 read as Windows-1252 (what mail
    programs that send unlabelled 8-bit headers mostly mean), control characters dropped.

    >>> readable("Caf\\udce9 order")
    'Café order'
    """
    if not raw:
        return ""
    try:
        raw.encode("utf-8")
        text = raw
    except UnicodeEncodeError:
        data = raw.encode("utf-8", "surrogateescape")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    return "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text).strip()


class _Text(HTMLParser):
    """The visible text of an HTML body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text of an HTML body.

    >>> html_text("<p>Hello<br>there</p><style>p {}</style>")
    'Hello\\nthere'
    """
    parser = _Text()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _body_and_attachments(msg: EmailMessage) -> tuple[str, tuple[Attachment, ...]]:
    files: list[Attachment] = []
    plain: list[str] = []
    html: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if filename or disposition == "attachment":
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            name = readable(filename) or "(unnamed)"
            files.append(Attachment(name[:255], part.get_content_type()[:127], size))
        elif part.get_content_type() == "text/plain":
            plain.append(_part_text(part))
        elif part.get_content_type() == "text/html":
            html.append(html_text(_part_text(part)))
    body = "\n\n".join(p.strip() for p in plain if p.strip())
    if not body:
        body = "\n\n".join(h for h in html if h)
    return readable(body), tuple(files)


def header(msg: EmailMessage, name: str) -> str:
    """A header's text: encoded words decoded, raw 8-bit bytes read by :func:`readable`."""
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            if any("\udc80" <= ch <= "\udcff" for ch in str(raw)):
                return readable(str(raw))
            try:
                return readable(str(msg.get(name, "")))
            except (TypeError, ValueError, IndexError):  # a header the library cannot parse
                return readable(str(raw))
    return ""


def _ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(readable(value)) if value else []


def parse_mail(data: bytes, origin: str) -> MailItem | MailFailure:
    """One e-mail from its bytes; a :class:`MailFailure` when it is not one."""
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    try:
        senders = getaddresses([header(msg, "From")])
    except (TypeError, ValueError, IndexError):
        senders = []
    sender_name, sender_email = senders[0] if senders else ("", "")
    if "@" not in sender_email:
        return MailFailure(origin, "not an e-mail message (no sender address in From)")
    own = _ids(header(msg, "Message-ID"))
    # A message without an id gets one from its content: importing it again finds it again.
    message_id = own[0] if own else hashlib.sha256(data).hexdigest()[:40] + "@cornerstore"
    references = _ids(header(msg, "References"))
    parents = [*_ids(header(msg, "In-Reply-To")), *reversed(references)]
    try:
        sent_at = parsedate_to_datetime(header(msg, "Date"))
        sent_at = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        sent_at = datetime.now(UTC)
    recipients = tuple(
        address.lower()
        for _, address in getaddresses([header(msg, h) for h in ("To", "Cc")])
        if "@" in address
    )
    body, attachments = _body_and_attachments(msg)
    return MailItem(
        origin=origin,
        message_id=message_id,
        in_reply_to=tuple(dict.fromkeys(p for p in parents if p != message_id)),
        sender_email=sender_email.strip().lower(),
        sender_name=readable(sender_name),
        recipients=recipients,
        subject=header(msg, "Subject") or "(no subject)",
        body=body,
        sent_at=sent_at.astimezone(UTC),
        attachments=attachments,
    )


def _files(path: Path) -> Iterator[tuple[str, bytes]]:
    """(origin, bytes) of every message under ``path``."""
    if path.is_file():
        if path.stat().st_size > MAX_FILE_BYTES * 20:
            raise InvalidInput(f"{path.name}: larger than {MAX_FILE_BYTES * 20 // 2**20} MB")
        with path.open("rb") as head:
            start = head.read(5)
        if start == b"From ":
            box = mailbox.mbox(path, create=False)
            try:
                for position, key in enumerate(box.iterkeys(), start=1):
                    yield f"{path.name}#{position}", box.get_bytes(key)
            finally:
                box.close()
            return
        yield path.name, path.read_bytes()
        return
    if (path / "cur").is_dir() or (path / "new").is_dir():
        for sub in ("new", "cur"):
            folder = path / sub
            if folder.is_dir():
                for file in sorted(folder.iterdir()):
                    if file.is_file() and not file.name.startswith("."):
                        yield f"{sub}/{file.name}", file.read_bytes()
        return
    for file in sorted(path.iterdir()):
        if file.name.startswith(".") or not file.is_file():
            continue
        if file.suffix.lower() in (".eml", ".msg", ".txt", ".mbox", ""):
            if file.stat().st_size > MAX_FILE_BYTES:
                yield file.name, b""
            else:
                yield from _files(file)


def read_mail(path: Path) -> tuple[list[MailItem], list[MailFailure]]:
    """Every e-mail under ``path`` (an mbox file, a Maildir, a folder of .eml files or one
    .eml), oldest first, and the files that were not e-mail.

    InvalidInput when ``path`` does not exist."""
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or folder")
    items: list[MailItem] = []
    failures: list[MailFailure] = []
    for origin, data in _files(path):
        if not data.strip():
            failures.append(MailFailure(origin, "empty or too large to be an e-mail message"))
            continue
        parsed = parse_mail(data, origin)
        (items if isinstance(parsed, MailItem) else failures).append(parsed)  # type: ignore[arg-type]
    items.sort(key=lambda item: (item.sent_at, item.origin))
    return items, failures
