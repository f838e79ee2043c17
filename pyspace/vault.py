"""The vault: the only code that touches the Fernet key or decrypts a secret's value.

Keys come from PYSPACE_SECRETS_KEY (config SECRETS_KEY) or, by default, the key file in
instance/ (created 0600 on first run). Several keys, newest first, separated by commas or
newlines, make a MultiFernet: values encrypted under any of them can be read, new values
are encrypted under the first — that is how a rotation runs without downtime.
"""
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

from .config import read_or_create_key_file


class VaultKeyError(RuntimeError):
    """The secrets key is missing, malformed, or does not match the stored values."""


_counter_lock = threading.Lock()
_decryptions = {"count": 0}


def parse_keys(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _load_keys(app: Flask) -> list[str]:
    configured = app.config.get("SECRETS_KEY")
    if configured:
        return parse_keys(configured)
    key_file = Path(app.config["SECRETS_KEY_FILE"])
    return parse_keys(read_or_create_key_file(key_file, lambda: Fernet.generate_key().decode()))


def build_fernet(keys: list[str]) -> MultiFernet:
    """A MultiFernet over `keys` (newest first), or VaultKeyError naming what is wrong."""
    if not keys:
        raise VaultKeyError("No secrets key is configured: set PYSPACE_SECRETS_KEY "
                            "or let py.space create instance/secrets.key.")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise VaultKeyError(
                f"Secrets key #{position} is not a valid Fernet key (32 url-safe base64-encoded "
                "bytes). Check PYSPACE_SECRETS_KEY or instance/secrets.key."
            ) from None
    return MultiFernet(fernets)


def init_app(app: Flask) -> None:
    """Load the key at start-up, so a bad key stops the app with a clear message."""
    app.extensions["vault"] = build_fernet(_load_keys(app))


def _fernet() -> MultiFernet:
    return current_app.extensions["vault"]


def encrypt_value(value: str) -> bytes | None:
    """Ciphertext for `value`; None for an empty value, which means "blank"."""
    if value == "":
        return None
    return _fernet().encrypt(value.encode("utf-8"))


def decrypt_value(ciphertext: bytes) -> str:
    """The plain value. Called only for a run that asks for it or the owner's explicit view."""
    with _counter_lock:
        _decryptions["count"] += 1
    try:
        return _fernet().decrypt(ciphertext).decode("utf-8")
    except InvalidToken:
        raise VaultKeyError("A secret could not be decrypted: the secrets key does not match "
                            "the one it was stored with.") from None


def decryption_count() -> int:
    """How many decryptions this process has made (tests and benchmarks count them)."""
    return _decryptions["count"]
