"""The vault: the only code that touches the Fernet key or decrypts a secret's value.

Keys come from PYSPACE_SECRETS_KEY (config SECRETS_KEY) or, by default, the key file in
instance/ (created 0600 on first run). Several keys, newest first, separated by commas or
newlines, make a MultiFernet: values encrypted under any of them can be read, new values
are encrypted under the first — that is how a rotation runs without downtime.

A key file is re-read whenever it changes on disk, so `flask secrets rotate-key` can put a new
key in front of the old one while the site runs: every process then encrypts under the new key
and still reads values stored under the old one.

Besides ciphertext, the vault makes keyed *fingerprints* of values (HMAC-SHA256 under a key
derived from the secrets key) so that saved code can be checked for a secret's value without
decrypting anything: a fingerprint reveals nothing to someone without the key.
"""

import hashlib
import hmac
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

from ..config import read_or_create_key_file

FINGERPRINT_CONTEXT = b"py.space value fingerprint v1"


class VaultKeyError(RuntimeError):
    """The secrets key is missing, malformed, or does not match the stored values."""


def parse_keys(text: str) -> list[str]:
    """The keys in `text` (newest first), separated by commas or newlines."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


@dataclass
class Keyring:
    """The loaded keys: a MultiFernet for values and one fingerprint key per Fernet key."""

    fernet: MultiFernet
    fingerprint_keys: list[bytes]
    key_file: Path | None = None
    key_file_mtime: int | None = None


def build_fernet(keys: list[str]) -> MultiFernet:
    """A MultiFernet over `keys` (newest first), or VaultKeyError naming what is wrong."""
    return _build_keyring(keys).fernet


def _build_keyring(keys: list[str], key_file: Path | None = None) -> Keyring:
    if not keys:
        raise VaultKeyError(
            "No secrets key is configured: set PYSPACE_SECRETS_KEY "
            "or let py.space create instance/secrets.key."
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise VaultKeyError(
                f"Secrets key #{position} is not a valid Fernet key (32 url-safe base64-encoded "
                "bytes). Check PYSPACE_SECRETS_KEY or instance/secrets.key."
            ) from None
    # A separate key per purpose: the fingerprint key is derived, never the Fernet key itself.
    fingerprint_keys = [
        hmac.new(key.encode(), FINGERPRINT_CONTEXT, hashlib.sha256).digest() for key in keys
    ]
    mtime = key_file.stat().st_mtime_ns if key_file else None
    return Keyring(MultiFernet(fernets), fingerprint_keys, key_file, mtime)


def _load_keyring(app: Flask) -> Keyring:
    configured = app.config.get("SECRETS_KEY")
    if configured:
        return _build_keyring(parse_keys(configured))
    key_file = Path(app.config["SECRETS_KEY_FILE"])
    try:
        text = read_or_create_key_file(key_file, lambda: Fernet.generate_key().decode())
    except OSError as error:
        raise VaultKeyError(
            f"The secrets key file {key_file} can't be read or created: {error.strerror}."
        ) from None
    return _build_keyring(parse_keys(text), key_file)


def init_app(app: Flask) -> None:
    """Load the key at start-up, so a bad key stops the app with a clear message."""
    app.extensions["vault"] = _load_keyring(app)


def _keyring() -> Keyring:
    keyring = current_app.extensions["vault"]
    if keyring.key_file is not None:
        # One stat per use: a rotation that changed the key file is picked up at once.
        try:
            mtime = keyring.key_file.stat().st_mtime_ns
        except OSError:
            raise VaultKeyError(
                f"The secrets key file {keyring.key_file} has gone missing."
            ) from None
        if mtime != keyring.key_file_mtime:
            keyring = current_app.extensions["vault"] = _load_keyring(current_app)
    return keyring


def encrypt_value(value: str) -> bytes | None:
    """Ciphertext for `value`; None for an empty value, which means "blank"."""
    if value == "":
        return None
    return _keyring().fernet.encrypt(value.encode("utf-8"))


def decrypt_value(ciphertext: bytes) -> str:
    """The plain value. Called only for a run that asks for it or the owner's explicit view."""
    try:
        return _keyring().fernet.decrypt(ciphertext).decode("utf-8")
    except InvalidToken:
        raise VaultKeyError(
            "A secret could not be decrypted: the secrets key does not match "
            "the one it was stored with."
        ) from None


def fingerprint(value: str) -> bytes | None:
    """The keyed fingerprint of `value` under the newest key; None for a blank value."""
    if value == "":
        return None
    return hmac.new(_keyring().fingerprint_keys[0], value.encode("utf-8"), hashlib.sha256).digest()


def fingerprints_of(candidates: set[str]) -> dict[bytes, str]:
    """Fingerprints of each candidate text under every key (old keys too, mid-rotation)."""
    keys = _keyring().fingerprint_keys
    return {
        hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest(): text
        for text in candidates
        for key in keys
    }


def reencrypt(ciphertext: bytes) -> tuple[bytes | None, bytes | None]:
    """`ciphertext` re-encrypted under the newest key, and a fresh fingerprint (for rotation)."""
    value = decrypt_value(ciphertext)
    return encrypt_value(value), fingerprint(value)


def key_count() -> int:
    """How many keys the vault holds (more than one while a rotation is under way)."""
    return len(_keyring().fingerprint_keys)


def keys_come_from_file() -> bool:
    """True when the keys live in the instance key file rather than PYSPACE_SECRETS_KEY."""
    return not current_app.config.get("SECRETS_KEY")


def write_key_file(keys: list[str]) -> Path:
    """Replace the key file's keys (newest first) atomically, keeping it 0600."""
    path = Path(current_app.config["SECRETS_KEY_FILE"])
    _build_keyring(keys)  # refuse to write anything that isn't a valid key list
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secrets.key.")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(keys) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    current_app.extensions["vault"] = _load_keyring(current_app)
    return path


def current_keys() -> list[str]:
    """The configured keys, newest first (for the rotation command only)."""
    configured = current_app.config.get("SECRETS_KEY")
    if configured:
        return parse_keys(configured)
    return parse_keys(Path(current_app.config["SECRETS_KEY_FILE"]).read_text())


def new_key() -> str:
    """A fresh Fernet key."""
    return Fernet.generate_key().decode()


# --- Encryption keys for `anvil.secrets.encrypt_with_key` -------------------------------------
#
# A widget's key is 32 random bytes (a Fernet key: 16 for HMAC-SHA256, 16 for AES-128-CBC),
# stored encrypted under the site's secrets key like any value. Its plain bytes exist only in
# this module, in a WidgetKey a run's channel service holds while the run lasts: they never
# enter a sandbox, a page, a log or an export.
#
# Ciphertext format (what encrypt_with_key returns):
#     "pyspace-key-v1:" + a Fernet token made with the widget's key
# The prefix names the format's version, so a later format can be told apart and old tokens
# still read. The token is url-safe base64 (printable, fits a text column) and authenticated:
# a changed or cut-short token, or one made with any other key, is refused, never mis-decrypted.

KEY_TOKEN_PREFIX = "pyspace-key-v1:"


class KeyTokenError(ValueError):
    """A ciphertext was not made with this key (another key, tampered with, or cut short)."""


class WidgetKey:
    """One widget key, unwrapped for a run: encrypts and decrypts text, never shows its bytes."""

    __slots__ = ("_fernet",)

    def __init__(self, fernet: Fernet):
        self._fernet = fernet

    def __repr__(self) -> str:
        return "<WidgetKey>"

    def encrypt(self, plaintext: str) -> str:
        """`plaintext` as a printable, versioned token (see the format above)."""
        return KEY_TOKEN_PREFIX + self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The text `token` was made from, or KeyTokenError if this key didn't make it."""
        if not token.startswith(KEY_TOKEN_PREFIX):
            raise KeyTokenError("not a py.space ciphertext (it should start with pyspace-key-v1:)")
        try:
            data = self._fernet.decrypt(token[len(KEY_TOKEN_PREFIX) :].encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise KeyTokenError("made with another key, changed, or cut short") from None
        return data.decode("utf-8")


def new_widget_key() -> bytes:
    """Fresh key material for a widget key, already encrypted under the site's secrets key."""
    return _keyring().fernet.encrypt(Fernet.generate_key())


def unwrap_widget_key(stored: bytes) -> WidgetKey:
    """The widget key whose stored (encrypted) material is `stored`, for one run's use."""
    try:
        return WidgetKey(Fernet(_keyring().fernet.decrypt(stored)))
    except InvalidToken:
        raise VaultKeyError(
            "A key could not be decrypted: the secrets key does not match "
            "the one it was stored with."
        ) from None


def reencrypt_widget_key(stored: bytes) -> bytes:
    """A widget key's stored material re-encrypted under the newest site key (for rotation).
    Its plain bytes never leave MultiFernet.rotate."""
    try:
        return _keyring().fernet.rotate(stored)
    except InvalidToken:
        raise VaultKeyError(
            "A key could not be decrypted: the secrets key does not match "
            "the one it was stored with."
        ) from None
