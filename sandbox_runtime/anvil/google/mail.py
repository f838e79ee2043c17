"""anvil.google.mail: sending with Gmail, not provided by py.space (anvil.email.send is)."""

from .._unavailable import module_getattr, not_provided

_SERVICE = "Google (Gmail)"
send = not_provided(_SERVICE, "anvil.google.mail.send")
__getattr__ = module_getattr(_SERVICE, __name__)
