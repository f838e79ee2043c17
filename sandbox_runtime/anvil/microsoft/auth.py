"""anvil.microsoft.auth: Microsoft sign-in, not provided by py.space (ServiceNotAdded when used)."""

from .._unavailable import module_getattr, not_provided

_SERVICE = "Microsoft"
login = not_provided(_SERVICE, "anvil.microsoft.auth.login")
get_user_email = not_provided(_SERVICE, "anvil.microsoft.auth.get_user_email")
get_user_id = not_provided(_SERVICE, "anvil.microsoft.auth.get_user_id")
get_user_access_token = not_provided(_SERVICE, "anvil.microsoft.auth.get_user_access_token")
get_user_refresh_token = not_provided(_SERVICE, "anvil.microsoft.auth.get_user_refresh_token")
refresh_access_token = not_provided(_SERVICE, "anvil.microsoft.auth.refresh_access_token")
__getattr__ = module_getattr(_SERVICE, __name__)
