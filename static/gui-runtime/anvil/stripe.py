"""anvil.stripe: Anvil's Stripe service, not provided by py.space (ServiceNotAdded when used).
Server code can still call Stripe's own HTTP API with anvil.http or requests."""

from ._unavailable import module_getattr, not_provided

_SERVICE = "Stripe"
new_customer = not_provided(_SERVICE, "anvil.stripe.new_customer")
get_customer = not_provided(_SERVICE, "anvil.stripe.get_customer")
subscribe_new_customer = not_provided(_SERVICE, "anvil.stripe.subscribe_new_customer")
__getattr__ = module_getattr(_SERVICE, __name__)
