"""anvil.secrets in client code: it refuses to load, saying why (see SECRETS_IN_CLIENT_MESSAGE).

Nothing here could fetch a secret anyway — no value is ever sent to the browser — so the error
is a signpost to server code, not the protection itself.
"""

from . import SECRETS_IN_CLIENT_MESSAGE, SecretsUnavailableError

raise SecretsUnavailableError(SECRETS_IN_CLIENT_MESSAGE)
