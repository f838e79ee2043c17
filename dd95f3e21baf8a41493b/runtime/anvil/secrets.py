"""Read the widget's secrets: `anvil.secrets.get_secret('api_key')`."""

from . import _channel


class SecretError(Exception):
    """A secret could not be read (no such secret, or it has no value yet)."""


def get_secret(name: str) -> str:
    """The current value of this widget's secret `name`.

    The web app looks the name up in the widget this run was started for, and nowhere else.
    """
    if not isinstance(name, str):
        raise SecretError("Secret names are strings, like get_secret('api_key')")
    answer = _channel.ask({"op": "get_secret", "name": name})
    if not answer.get("ok"):
        raise SecretError(answer.get("message") or f"Could not read the secret {name!r}")
    return answer["value"]
