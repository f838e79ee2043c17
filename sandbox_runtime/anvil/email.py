"""anvil.email in server code: `send(...)` an e-mail from the widget, as Anvil's.

The web app sends it (or keeps it in the site's outbox when no mail server is set up), after
checking the site's limits; the From address is always the site's, with the widget's name (or
`from_name`) as the display name. Receiving mail (`@handle_message`) is not provided: the
decorator registers nothing, and no message ever arrives.
"""

import base64

from . import _channel
from ._media import Media


class SendFailure(Exception):  # noqa: N818 (Anvil's name)
    """The message was not sent: a limit was reached, an address is malformed, or the mail
    server refused it (the message says which)."""


class DeliveryFailure(Exception):  # noqa: N818 (Anvil's name)
    """Raised by a message handler to reject an incoming e-mail (Anvil's; py.space receives
    no mail, so it is never caught by anything)."""

    def __init__(self, message=None, smtp_code=None):
        if message is not None and smtp_code is not None:
            message = f"{smtp_code}: {message}"
        super().__init__(*([] if message is None else [message]))


class SendReport:
    """What `send` returns: `message_id`, the Message-ID header the message was given."""

    def __init__(self, message_id: str):
        self.message_id = message_id

    def __repr__(self) -> str:
        return f"<anvil.email.SendReport {self.message_id}>"


def _addresses(value, field: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    raise TypeError(f"{field} must be an address (a string) or a list of addresses")


def _media(value, field: str) -> dict:
    if not isinstance(value, Media):
        raise TypeError(f"{field} must hold Media objects (anvil.BlobMedia, …)")
    return {
        "name": value.get_name(),
        "content_type": value.get_content_type() or "application/octet-stream",
        "content": base64.b64encode(value.get_bytes()).decode("ascii"),
    }


def send(
    to=None,
    cc=None,
    bcc=None,
    from_address="no-reply",
    from_name=None,
    subject=None,
    text=None,
    html=None,
    attachments=None,
    inline_attachments=None,
    **other,
):
    """Send an e-mail; returns a SendReport, raises SendFailure if it can't be sent.

    `to`, `cc`, `bcc`: an address or a list of them (`to` defaults to the widget's owner);
    `text` and/or `html` the body; `attachments` a list of Media; `inline_attachments` a dict
    {content id: Media} for `cid:` links in the HTML. `from_address` and `from_name` only give
    the display name: mail always comes from the site's own address."""
    for name in ("reply_to", "in_reply_to", "references"):
        other.pop(name, None)  # accepted for compatibility; py.space sets its own headers
    if other:
        raise TypeError(f"send() got unexpected keyword argument(s): {', '.join(sorted(other))}")
    for value, field in ((subject, "subject"), (text, "text"), (html, "html")):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{field} must be a string")
    if text is None and html is None:
        raise SendFailure("An e-mail needs a body: give text= or html= (or both).")
    if inline_attachments is not None and not isinstance(inline_attachments, dict):
        raise TypeError("inline_attachments must be a dict of {content id: Media}")
    message = {
        "op": "send_email",
        "to": _addresses(to, "to"),
        "cc": _addresses(cc, "cc"),
        "bcc": _addresses(bcc, "bcc"),
        "from_address": str(from_address) if from_address is not None else None,
        "from_name": str(from_name) if from_name is not None else None,
        "subject": subject or "",
        "text": text,
        "html": html,
        "attachments": [_media(item, "attachments") for item in attachments or []],
        "inline_attachments": {
            str(cid): _media(item, "inline_attachments")
            for cid, item in (inline_attachments or {}).items()
        },
    }
    answer = _channel.ask(message)
    if not answer.get("ok"):
        raise SendFailure(answer.get("message") or "The e-mail could not be sent.")
    return SendReport(answer["message_id"])


def handle_message(fn=None, require_dkim=False):
    """Anvil's decorator for receiving e-mail. py.space receives no mail: the function is left
    as it is and never called."""

    def keep(function):
        return function

    return keep(fn) if fn is not None else keep
