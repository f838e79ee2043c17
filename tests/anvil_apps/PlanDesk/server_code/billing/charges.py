import anvil.secrets
from . import CURRENCY


def describe(cents):
    key = anvil.secrets.get_secret("stripe_key")
    return f"{cents} {CURRENCY} via key ending {key[-4:]}"
