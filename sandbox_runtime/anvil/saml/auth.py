"""anvil.saml.auth: SAML sign-in, not provided by py.space (ServiceNotAdded when used)."""

from .._unavailable import module_getattr, not_provided

_SERVICE = "SAML"
login = not_provided(_SERVICE, "anvil.saml.auth.login")
get_user_email = not_provided(_SERVICE, "anvil.saml.auth.get_user_email")
get_user_attributes = not_provided(_SERVICE, "anvil.saml.auth.get_user_attributes")
__getattr__ = module_getattr(_SERVICE, __name__)
