"""A real SMTP server on loopback (aiosmtpd) that keeps what arrives, for the e-mail tests."""

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from tests.sandbox.helpers import SMALL_LIMITS


class Mailbox:
    """What the loopback server received: one (envelope recipients, parsed message) a mail."""

    def __init__(self):
        self.port = 0
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    with socket.socket() as probe:  # a free port (the controller can't start on port 0)
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def app_config(app_config):
    # Sending mail needs a few channel round trips: the small limits with a little more time.
    app_config.update(SMALL_LIMITS, RUN_WALL_SECONDS=8, RUN_CPU_SECONDS=3)
    return app_config
