"""A run asking for a secret: the one door between widget code and a stored value.

The runner calls `value_for_run` (inside an app context) when widget code calls
`anvil.secrets.get_secret(name)`. The lookup is scoped to the widget the run was started for,
so code can never reach another widget's secrets, whatever name it asks for.
"""

import logging

from sqlalchemy import bindparam, select

from .. import audit
from ..database import begin_bookkeeping
from ..extensions import db
from ..models import Secret, utcnow
from . import vault

logger = logging.getLogger(__name__)
# Every run that reads a secret looks it up: with a statement built once, SQLAlchemy skips
# building it and walking it for its cache key, half the look-up's CPU (0.23 → 0.13 ms).
_SECRET_BY_NAME = select(Secret).where(
    Secret.widget_id == bindparam("widget_id"), Secret.name == bindparam("name")
)


class SecretLookupError(Exception):
    """A secret a run asked for can't be given; the message is shown to the person running."""


def value_for_run(widget_id: str, name: str, actor_id: int | None) -> str:
    """The plain value of `widget_id`'s secret `name`, for a run; audited as "use".

    `actor_id` is whoever started the run (None for an anonymous viewer of a public widget).
    Raises SecretLookupError for a missing or blank secret, never with a value in it.
    """
    secret = _entry(widget_id, name, "secret")
    if secret.is_key:
        raise SecretLookupError(
            f"{name!r} is a key, not a secret: use it with anvil.secrets.encrypt_with_key"
            f"({name!r}, text) and decrypt_with_key({name!r}, ciphertext)."
        )
    if secret.ciphertext is None:  # blank
        # Descriptions are documentation for whoever can fork the widget (the fork's panel and
        # .env.example show them too), so a run error may say what the secret is for.
        raise SecretLookupError(blank_secret_message(secret))
    try:
        value = vault.decrypt_value(secret.ciphertext)
    except vault.VaultKeyError as error:
        # The operator must fix the key; the person running only needs to know it isn't them.
        logger.error("Secret %r of widget %s: %s", name, widget_id, error)
        raise SecretLookupError(
            f"The secret {name!r} can't be read right now: the site's secrets "
            "key has changed. Please tell the site's operator."
        ) from None
    _record_use(secret, actor_id)
    return value


def key_for_run(widget_id: str, name: str, actor_id: int | None) -> vault.WidgetKey:
    """`widget_id`'s encryption key `name`, unwrapped for a run; audited as "use".

    Raises SecretLookupError for an unknown name, a secret's name, or a key without key
    material (a fork's), never with key bytes in it.
    """
    secret = _entry(widget_id, name, "key")
    if not secret.is_key:
        raise SecretLookupError(
            f"{name!r} is a secret, not a key: read it with anvil.secrets.get_secret({name!r}). "
            "Encryption needs a key: press Create Key in the Secrets panel."
        )
    if secret.ciphertext is None:  # blank
        raise SecretLookupError(
            f"The key {name!r} has no key yet (a fork gets only the names of keys): press "
            '"Generate key" next to it in the Secrets panel. Data encrypted with the original '
            "widget's key can't be decrypted with the new one."
        )
    try:
        key = vault.unwrap_widget_key(secret.ciphertext)
    except vault.VaultKeyError as error:
        logger.error("Key %r of widget %s: %s", name, widget_id, error)
        raise SecretLookupError(
            f"The key {name!r} can't be used right now: the site's secrets key has changed. "
            "Please tell the site's operator."
        ) from None
    _record_use(secret, actor_id)
    return key


def _entry(widget_id: str, name: object, noun: str) -> Secret:
    """The widget's secret or key called `name`; "No such …" otherwise."""
    if not isinstance(name, str) or Secret.name_error(name):
        # Whatever widget code sent, it names nothing here; keep the echo short.
        raise SecretLookupError(f"No such {noun} {str(name)[:64]!r}")
    secret = db.session.scalar(_SECRET_BY_NAME, {"widget_id": widget_id, "name": name})
    if secret is None:
        raise SecretLookupError(f"No such {noun} {name!r}")
    return secret


def _record_use(secret: Secret, actor_id: int | None) -> None:
    # One audited "use" per name per run (the channel service remembers it for the run). The
    # run waits for this commit: it is bookkeeping, not something the owner typed.
    begin_bookkeeping()
    secret.last_used_at = utcnow()
    audit.record(secret.widget_id, actor_id, "use", secret.name)
    db.session.commit()


def blank_secret_message(secret: Secret) -> str:
    """What to tell someone whose code asked for a blank secret (with its description if
    required: descriptions are visible to anyone who can fork the widget)."""
    message = (
        f"The secret {secret.name!r} has no value yet: set its value in the "
        "Secrets panel of the widget editor."
    )
    if secret.required and secret.description:
        message += f" It is required: {secret.description}"
    return message
