"""The site's mail server, from PYSPACE_SMTP_URL, and handing a message to it with smtplib.

`smtp://user:password@host:port` (plain, or `?starttls=1` to upgrade), `smtps://…` (TLS from
the start). User and password are URL-encoded in the URL when they hold `@`, `:` or `/`.
"""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

# A mail server that takes longer than this to answer fails the send (the run is waiting).
SMTP_TIMEOUT_SECONDS = 10.0


class SmtpUrlError(ValueError):
    """PYSPACE_SMTP_URL can't be used; the message says why (never the password)."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpServer:
    """The server `url` names, or SmtpUrlError."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise SmtpUrlError("PYSPACE_SMTP_URL starts with smtp:// or smtps://")
    if not parts.hostname:
        raise SmtpUrlError("PYSPACE_SMTP_URL names no host")
    try:
        port = parts.port
    except ValueError:
        raise SmtpUrlError("PYSPACE_SMTP_URL has a port that is not a number") from None
    tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes", "on")
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if tls else 587 if starttls else 25),
        tls=tls,
        starttls=starttls and not tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def send_message(server: SmtpServer, message: EmailMessage, recipients: list[str]) -> None:
    """Hand `message` to `server` for `recipients` (Bcc included; the header is not sent).
    Raises smtplib.SMTPException or OSError when it is refused or unreachable."""
    context = ssl.create_default_context()
    connection: smtplib.SMTP
    if server.tls:
        connection = smtplib.SMTP_SSL(
            server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        connection = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
    with connection:
        if server.starttls:
            connection.starttls(context=context)
        if server.username:
            connection.login(server.username, server.password or "")
        connection.send_message(message, to_addrs=recipients)
