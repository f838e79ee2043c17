"""anvil.facebook.auth: Facebook sign-in, not provided by py.space (ServiceNotAdded when used)."""

from .._unavailable import module_getattr, not_provided

_SERVICE = "Facebook"
login = not_provided(_SERVICE, "anvil.facebook.auth.login")
get_user_email = not_provided(_SERVICE, "anvil.facebook.auth.get_user_email")
get_user_id = not_provided(_SERVICE, "anvil.facebook.auth.get_user_id")
get_user_access_token = not_provided(_SERVICE, "anvil.facebook.auth.get_user_access_token")
__getattr__ = module_getattr(_SERVICE, __name__)
