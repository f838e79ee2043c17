"""Read the widget's secrets and use its encryption keys, as Anvil's `anvil.secrets` does:
`get_secret('api_key')`, `encrypt_with_key('key', text)`, `decrypt_with_key('key', ciphertext)`.

The web app answers over the run's channel, for the widget this run was started for and no
other. Encryption happens there: the key never enters the sandbox.
"""

from . import _channel


class SecretError(Exception):
    """A secret or key could not be used (no such name, no value or key yet, a bad ciphertext)."""


def _ask(message: dict, failure: str) -> str:
    answer = _channel.ask(message)
    if not answer.get("ok"):
        raise SecretError(answer.get("message") or failure)
    return answer["value"]


def get_secret(name: str) -> str:
    """The current value of this widget's secret `name`.

    The web app looks the name up in the widget this run was started for, and nowhere else.
    """
    if not isinstance(name, str):
        raise SecretError("Secret names are strings, like get_secret('api_key')")
    return _ask({"op": "get_secret", "name": name}, f"Could not read the secret {name!r}")


def encrypt_with_key(key_name: str, value: str) -> str:
    """`value` encrypted with this widget's key `key_name`: a printable string that only
    `decrypt_with_key(key_name, ...)` in this widget can turn back into `value`."""
    if not isinstance(key_name, str):
        raise SecretError("Key names are strings, like encrypt_with_key('my_key', text)")
    if not isinstance(value, str):
        raise SecretError(
            f"encrypt_with_key encrypts a string, not {type(value).__name__}: "
            "convert it first (for example with json.dumps)"
        )
    return _ask(
        {"op": "encrypt_with_key", "name": key_name, "plaintext": value},
        f"Could not encrypt with the key {key_name!r}",
    )


def decrypt_with_key(key_name: str, value: str) -> str:
    """The text that `encrypt_with_key(key_name, ...)` turned into the ciphertext `value`."""
    if not isinstance(key_name, str):
        raise SecretError("Key names are strings, like decrypt_with_key('my_key', ciphertext)")
    if not isinstance(value, str):
        raise SecretError(
            f"decrypt_with_key decrypts the string encrypt_with_key returned, "
            f"not {type(value).__name__}"
        )
    return _ask(
        {"op": "decrypt_with_key", "name": key_name, "ciphertext": value},
        f"Could not decrypt with the key {key_name!r}",
    )
