"""Sending a widget's e-mail: checks, redaction, limits, then the mail server or the outbox.

Rules, in the order they are applied:
- Addresses are single, well-formed addresses; at most MAIL_RECIPIENTS_PER_MESSAGE of them.
  `to` defaults to the widget's owner, as Anvil's does to the app's owner.
- Secrets: every value the run read is masked (`***`) in the subject, the bodies, attachment
  names and text attachments, whoever the message is for; an address or a binary attachment
  holding one is refused. A message leaves the site for good (mailboxes, forwards, servers in
  between), so the owner-only exception of a run's output does not apply to it.
- From is the site's address (MAIL_FROM), with the widget's title as the display name: widget
  code can't send as someone else.
- The whole message is at most MAIL_MAX_BYTES; a widget sends at most MAIL_PER_WIDGET_PER_DAY
  and an account's widgets together MAIL_PER_ACCOUNT_PER_DAY in any 24 hours, so one account's
  flood uses up its own share only.
- Without PYSPACE_SMTP_URL (or when the owner has no e-mail address to default to), the message
  is kept whole in the outbox: the owner reads it in the editor, an admin in /admin/outbox.
"""

import base64
import binascii
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import delete, func, select

from ..counters import MAIL
from ..extensions import db
from ..models import MailMessage, User, Widget, utcnow
from ..sandbox.redaction import Redactor
from .smtp import SmtpUrlError, parse_smtp_url, send_message

log = logging.getLogger(__name__)

SUBJECT_MAX = 400
OWNER_PLACEHOLDER = "(the widget's owner: no e-mail address on the account)"


class MailRefusedError(Exception):
    """The message can't be sent; the message says why, for the widget's code."""


@dataclass
class Attachment:
    name: str
    content_type: str
    content: bytes


@dataclass
class Draft:
    """What `anvil.email.send` asked for, decoded and type-checked."""

    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    text: str | None
    html: str | None
    attachments: list[Attachment] = field(default_factory=list)
    inline: dict[str, Attachment] = field(default_factory=dict)


def _strings(value, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MailRefusedError(f"{name} must be an address or a list of addresses")
    return value


def _optional_text(value, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise MailRefusedError(f"{name} must be a string")
    return value


def _attachment(value, name: str) -> Attachment:
    if not isinstance(value, dict):
        raise MailRefusedError(f"{name} must hold Media objects")
    try:
        content = base64.b64decode(str(value.get("content", "")), validate=True)
    except (binascii.Error, ValueError):
        raise MailRefusedError(f"{name} holds a Media object that could not be read") from None
    content_type = str(value.get("content_type") or "application/octet-stream")
    if content_type.count("/") != 1 or any(ch in content_type for ch in "\r\n;"):
        content_type = "application/octet-stream"
    return Attachment(str(value.get("name") or "attachment"), content_type, content)


def draft_from_request(request: dict) -> Draft:
    """The message the channel request describes, or MailRefusedError saying what is wrong."""
    text = _optional_text(request.get("text"), "text")
    html = _optional_text(request.get("html"), "html")
    if text is None and html is None:
        raise MailRefusedError("An e-mail needs a body: give text= or html= (or both).")
    attachments = request.get("attachments") or []
    inline = request.get("inline_attachments") or {}
    if not isinstance(attachments, list) or not isinstance(inline, dict):
        raise MailRefusedError("attachments is a list of Media; inline_attachments a dict of them")
    return Draft(
        to=_strings(request.get("to") or [], "to"),
        cc=_strings(request.get("cc") or [], "cc"),
        bcc=_strings(request.get("bcc") or [], "bcc"),
        subject=_optional_text(request.get("subject"), "subject") or "",
        text=text,
        html=html,
        attachments=[_attachment(item, "attachments") for item in attachments],
        inline={str(cid): _attachment(item, "inline_attachments") for cid, item in inline.items()},
    )


def _checked_address(raw: str) -> str:
    """`raw` ("a@b.org" or "Name <a@b.org>") as one header-safe address, or MailRefusedError."""
    if any(ch in raw for ch in "\r\n\0") or len(raw) > 320:
        raise MailRefusedError(f"Not an e-mail address: {raw[:80]!r}")
    name, address = parseaddr(raw)
    local, at, domain = address.rpartition("@")
    if not (at and local and "." in domain) or "," in raw.replace(name, "", 1):
        raise MailRefusedError(f"Not an e-mail address: {raw[:80]!r}")
    try:
        Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        raise MailRefusedError(f"Not an e-mail address: {raw[:80]!r}") from None
    return formataddr((name, address)) if name else address


def _mask_text(redactor: Redactor, text: str | None) -> str | None:
    return None if text is None else redactor.text(text)


def _mask_attachment(redactor: Redactor, attachment: Attachment) -> Attachment:
    name = redactor.text(attachment.name)
    try:
        text = attachment.content.decode("utf-8")
    except UnicodeDecodeError:
        # Latin-1 maps every byte to one character: a value's (ASCII) forms are found as text.
        if redactor.contains_secret(attachment.content.decode("latin-1")):
            raise MailRefusedError(
                f"The attachment {name!r} holds a secret value the run read: it is not sent."
            ) from None
        return Attachment(name, attachment.content_type, attachment.content)
    return Attachment(name, attachment.content_type, redactor.text(text).encode("utf-8"))


def redacted(draft: Draft, redactor: Redactor) -> Draft:
    """`draft` with the run's secret values masked everywhere; MailRefusedError when an address or a
    binary attachment holds one (an address can't be masked and still be sent)."""
    for address in draft.to + draft.cc + draft.bcc:
        if redactor.contains_secret(address):
            raise MailRefusedError("An address of this e-mail holds a secret value the run read.")
    return Draft(
        to=draft.to,
        cc=draft.cc,
        bcc=draft.bcc,
        subject=redactor.text(draft.subject),
        text=_mask_text(redactor, draft.text),
        html=_mask_text(redactor, draft.html),
        attachments=[_mask_attachment(redactor, item) for item in draft.attachments],
        inline={
            redactor.text(cid): _mask_attachment(redactor, item)
            for cid, item in draft.inline.items()
        },
    )


def site_address() -> str:
    """The address the site's mail comes from (MAIL_FROM, or no-reply@localhost)."""
    return current_app.config["MAIL_FROM"] or "no-reply@localhost"


def build_message(widget: Widget, draft: Draft, to: list[str]) -> EmailMessage:
    """The e-mail itself: From the site with the widget's title as the name, Bcc left out."""
    message = EmailMessage()
    sender = site_address()
    message["From"] = formataddr((widget.title[:100], sender))
    if to:
        message["To"] = ", ".join(to)
    if draft.cc:
        message["Cc"] = ", ".join(draft.cc)
    message["Subject"] = draft.subject.replace("\r", " ").replace("\n", " ")[:SUBJECT_MAX]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    if draft.text is not None:
        message.set_content(draft.text)
        if draft.html is not None:
            message.add_alternative(draft.html, subtype="html")
    else:
        message.set_content(draft.html or "", subtype="html")
    if draft.inline:
        if draft.html is None:
            raise MailRefusedError("inline_attachments are shown by the html body: give html=.")
        html_part = message.get_body(("html",))
        assert isinstance(html_part, EmailMessage)  # the html body was just set
        for cid, item in draft.inline.items():
            maintype, subtype = item.content_type.split("/")
            html_part.add_related(
                item.content, maintype, subtype, cid=f"<{cid}>", filename=item.name
            )
    for item in draft.attachments:
        maintype, subtype = item.content_type.split("/")
        message.add_attachment(item.content, maintype, subtype, filename=item.name)
    return message


def _over_limit(widget: Widget) -> str | None:
    """Why one more message from `widget` is over a daily limit (its row already counted)."""
    config = current_app.config
    since = utcnow() - timedelta(days=1)
    recent = select(func.count(MailMessage.id)).where(MailMessage.created_at >= since)
    # The site's own mail about the widget (alerts: no account) is not the widget's to count.
    widget_count = (
        db.session.scalar(
            recent.where(MailMessage.widget_id == widget.id, MailMessage.account_id.is_not(None))
        )
        or 0
    )
    if widget_count > int(config["MAIL_PER_WIDGET_PER_DAY"]):
        return (
            f"This widget has sent its {config['MAIL_PER_WIDGET_PER_DAY']} e-mails for today "
            "(any 24 hours): try again later."
        )
    account_count = db.session.scalar(recent.where(MailMessage.account_id == widget.owner_id))
    if (account_count or 0) > int(config["MAIL_PER_ACCOUNT_PER_DAY"]):
        return (
            f"This account's widgets have sent their {config['MAIL_PER_ACCOUNT_PER_DAY']} "
            "e-mails for today (any 24 hours): try again later."
        )
    return None


def send_widget_mail(widget: Widget, draft: Draft, redactor: Redactor) -> MailMessage:
    """Check, redact and send (or keep in the outbox) `draft` from `widget`; MailRefusedError if it
    can't go. Returns the message's row (its `message_id` is the SendReport's)."""
    config = current_app.config
    draft = redacted(draft, redactor)
    owner = db.session.get(User, widget.owner_id)
    owner_address = getattr(owner, "email", None) or None
    to = [_checked_address(item) for item in draft.to]
    cc = [_checked_address(item) for item in draft.cc]
    bcc = [_checked_address(item) for item in draft.bcc]
    draft.cc = cc
    to_owner_without_address = not (to or cc or bcc) and owner_address is None
    if not (to or cc or bcc) and owner_address:
        to = [_checked_address(owner_address)]
    limit = int(config["MAIL_RECIPIENTS_PER_MESSAGE"])
    if len(to) + len(cc) + len(bcc) > limit:
        raise MailRefusedError(f"An e-mail may have at most {limit} recipients (to, cc and bcc).")
    message = build_message(widget, draft, to)
    raw = message.as_bytes()
    if len(raw) > int(config["MAIL_MAX_BYTES"]):
        raise MailRefusedError(
            f"This e-mail is {len(raw):,} bytes; the most this site sends is "
            f"{int(config['MAIL_MAX_BYTES']):,} bytes (bodies and attachments together)."
        )
    shown_recipients = ", ".join(to + cc + [f"bcc: {item}" for item in bcc]) or OWNER_PLACEHOLDER
    row = MailMessage(
        widget_id=widget.id,
        account_id=widget.owner_id,
        status="sending",
        message_id=str(message["Message-ID"]),
        sender=str(message["From"])[:400],
        recipients=shown_recipients,
        subject=str(message["Subject"] or "")[:400],
        size_bytes=len(raw),
    )
    # Mail is kept MAIL_OUTBOX_DAYS: older rows go as new ones come.
    cutoff = utcnow() - timedelta(days=int(config["MAIL_OUTBOX_DAYS"]))
    db.session.execute(delete(MailMessage).where(MailMessage.created_at < cutoff))
    db.session.add(row)
    db.session.commit()
    refusal = _over_limit(widget)
    if refusal:
        db.session.execute(delete(MailMessage).where(MailMessage.id == row.id))
        db.session.commit()
        MAIL.labels("refused").inc()
        raise MailRefusedError(refusal)
    smtp_url = config["SMTP_URL"]
    if not smtp_url or to_owner_without_address:
        row.status, row.raw = "outbox", raw
        db.session.commit()
        return row
    try:
        send_message(parse_smtp_url(smtp_url), message, to + cc + bcc)
    except (smtplib.SMTPException, OSError, SmtpUrlError) as error:
        log.warning("mail server refused a message of widget %s: %s", widget.id, error)
        row.status, row.error = "failed", str(error)[:400]
        db.session.commit()
        raise MailRefusedError(
            "The mail server did not take the e-mail; try again later."
        ) from None
    row.status = "sent"
    db.session.commit()
    return row


def outbox_for_widget(widget_id: str, limit: int = 50) -> list[MailMessage]:
    """The widget's most recent mail (outbox, sent and failed), newest first."""
    query = select(MailMessage).where(MailMessage.widget_id == widget_id)
    return list(db.session.scalars(query.order_by(MailMessage.id.desc()).limit(limit)))


def outbox_for_site(limit: int = 200) -> list[MailMessage]:
    """The site's most recent mail, newest first (the admin's outbox)."""
    query = select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)
    return list(db.session.scalars(query))


@dataclass
class MailView:
    """One kept message as the Outbox shows it (bodies as text: never rendered as HTML)."""

    row: MailMessage
    text: str | None = None
    html: str | None = None
    attachments: list[str] = field(default_factory=list)


def mail_view(row: MailMessage) -> MailView:
    """`row` with the bodies and attachment names of its kept message (outbox rows)."""
    if row.raw is None:
        return MailView(row)
    from email import message_from_bytes, policy

    message = message_from_bytes(row.raw, policy=policy.default)
    view = MailView(row)
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    view.text = text_part.get_content() if text_part is not None else None
    view.html = html_part.get_content() if html_part is not None else None
    for part in message.walk():
        filename = part.get_filename()
        if filename:
            view.attachments.append(
                f"{filename} ({len(part.get_payload(decode=True) or b''):,} bytes)"
            )
    return view
