"""anvil.email in client code: the names import (modules shared with server code use them), but
e-mail is sent by server code: `send` here explains how."""


class SendFailure(Exception):  # noqa: N818 (Anvil's name)
    """An e-mail could not be sent (raised by server code's anvil.email.send)."""


class DeliveryFailure(Exception):  # noqa: N818 (Anvil's name)
    """Anvil's exception for rejecting incoming mail (py.space receives none)."""


def send(*args, **kwargs):
    """E-mail is sent from server code only."""
    raise RuntimeError(
        "anvil.email.send works in server code only (the message leaves from the site, with "
        "its limits). Send it from a server function and call that with anvil.server.call()."
    )
