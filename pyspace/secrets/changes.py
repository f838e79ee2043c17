"""Changing a widget's secrets: plain functions the views (and tests) call.

Each function makes one change in one short transaction, records it in the audit log (never
with a value), and touches the widget's updated time — never its code. Validation errors come
back as a user-facing message and leave the secret as it was.
"""

import re
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from .. import audit, quotas
from ..extensions import db
from ..models import KEY_KIND, SECRET_DESCRIPTION_MAX, Secret, Widget, utcnow
from ..sandbox.redaction import SHORT_VALUE_CHARS
from . import vault
from .leaks import leak_warnings, literal_value

NEW_SECRET_PREFIX = "new_secret_"
NEW_KEY_PREFIX = "new_key_"
NOTHING_TO_MOVE = (
    "That line has no value that can be moved to a secret any more. "
    "Reload the editor to see the current warnings."
)


class SecretChangeError(ValueError):
    """A change was refused; the message says why, next to the row it concerns."""


def secret_of(widget: Widget, secret_id: int) -> Secret | None:
    """The widget's secret with this id, or None (a secret of another widget is None too)."""
    secret = db.session.get(Secret, secret_id)
    return secret if secret is not None and secret.widget_id == widget.id else None


def next_new_secret_name(widget: Widget, prefix: str = NEW_SECRET_PREFIX) -> str:
    """`new_secret_N` (or `<prefix>N`, as `new_key_N`) with the smallest N ≥ 1 not already
    used in this widget."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    names = db.session.scalars(db.select(Secret.name).filter_by(widget_id=widget.id))
    used = {int(match.group(1)) for name in names if (match := pattern.fullmatch(name))}
    number = 1
    while number in used:
        number += 1
    return f"{prefix}{number}"


def create_secret(widget: Widget, actor_id: int) -> Secret:
    """Add a blank secret named `new_secret_N` to `widget`."""
    return _create(widget, actor_id, NEW_SECRET_PREFIX, lambda secret: None)


def create_key(widget: Widget, actor_id: int) -> Secret:
    """Add an encryption key named `new_key_N` to `widget`, with freshly generated key material
    (which nobody ever sees: see vault.new_widget_key)."""
    return _create(widget, actor_id, NEW_KEY_PREFIX, _generate_material)


def _generate_material(key: Secret) -> None:
    key.kind = KEY_KIND
    key.ciphertext = vault.new_widget_key()
    key.value_changed_at = utcnow()


def _create(widget: Widget, actor_id: int, prefix: str, fill: Callable[[Secret], None]) -> Secret:
    if error := quotas.new_secrets_error(widget.id):
        raise SecretChangeError(error)
    for _attempt in range(5):
        # Touching the widget first takes the write lock (SQLite) or the widget's row lock
        # (PostgreSQL), so two tabs creating at once pick their numbers one after the other.
        widget.touch()
        db.session.flush()
        secret = Secret(widget_id=widget.id, name=next_new_secret_name(widget, prefix))
        fill(secret)
        db.session.add(secret)
        audit.record(widget.id, actor_id, "create", secret.name, detail=_kind_detail(secret))
        try:
            db.session.commit()
            return secret
        except IntegrityError:
            db.session.rollback()
    raise SecretChangeError("Could not create a secret right now. Please try again.")


def _kind_detail(secret: Secret) -> str:
    return "encryption key" if secret.is_key else ""


def generate_key(key: Secret, actor_id: int) -> None:
    """Give a key without key material (a fork's) a freshly generated one. A key that has
    material keeps it: replacing it would make everything encrypted with it unreadable."""
    if not key.is_key:
        raise SecretChangeError(f"{key.name} is a secret, not a key: set its value instead.")
    if not key.is_blank:
        raise SecretChangeError(f"The key {key.name} already has a key.")
    _generate_material(key)
    key.widget.touch()
    audit.record(key.widget_id, actor_id, "generate", key.name, detail="encryption key")
    db.session.commit()


def rename_secret(secret: Secret, new_name: str, actor_id: int) -> None:
    """Rename `secret`; a bad or taken name raises SecretChangeError and keeps the old name."""
    new_name = (new_name or "").strip()
    error = Secret.name_error(new_name)
    if error:
        raise SecretChangeError(error)
    if new_name == secret.name:
        return
    if _name_taken(secret.widget_id, new_name):
        raise SecretChangeError(f"This widget already has a secret named {new_name}.")
    old_name = secret.name
    secret.name = new_name
    secret.widget.touch()
    audit.record(secret.widget_id, actor_id, "rename", new_name, detail=f"was {old_name}")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SecretChangeError(f"This widget already has a secret named {new_name}.") from None


def _name_taken(widget_id: str, name: str) -> bool:
    return (
        db.session.scalar(db.select(Secret.id).filter_by(widget_id=widget_id, name=name))
        is not None
    )


def set_secret_value(secret: Secret, value: str, actor_id: int, action: str | None = None) -> None:
    """Replace `secret`'s value (an empty value makes it blank)."""
    value = value or ""
    if secret.is_key:
        raise SecretChangeError(
            f"{secret.name} is an encryption key: it has no value to set, and its key is never "
            "shown."
        )
    error = Secret.value_error(value)
    if error:
        raise SecretChangeError(error)
    store_value(secret, value)
    secret.widget.touch()
    audit.record(secret.widget_id, actor_id, action or ("set" if value else "clear"), secret.name)
    db.session.commit()


def store_value(secret: Secret, value: str) -> None:
    """Encrypt `value` into `secret` with its fingerprint (the caller audits and commits)."""
    secret.ciphertext = vault.encrypt_value(value)
    secret.fingerprint = vault.fingerprint(value)
    secret.short_value = 0 < len(value) < SHORT_VALUE_CHARS
    secret.value_changed_at = utcnow()


def delete_secret(secret: Secret, actor_id: int) -> None:
    """Delete `secret` for good."""
    secret.widget.touch()
    audit.record(secret.widget_id, actor_id, "delete", secret.name)
    db.session.delete(secret)
    db.session.commit()


def reveal_value(secret: Secret, actor_id: int) -> str:
    """The value, for the owner's explicit View value; recorded as "view"."""
    if secret.is_key:
        raise SecretChangeError("This is an encryption key: its key is never shown to anyone.")
    if secret.write_only:
        raise SecretChangeError("This secret is write-only: its value can't be viewed.")
    if secret.ciphertext is None:  # blank
        return ""
    value = vault.decrypt_value(secret.ciphertext)
    secret.last_viewed_at = utcnow()
    audit.record(secret.widget_id, actor_id, "view", secret.name)
    db.session.commit()
    return value


def make_write_only(secret: Secret, actor_id: int) -> None:
    """Mark `secret` write-only: View value is gone for good (it can still be replaced)."""
    if secret.write_only:
        return
    secret.write_only = True
    secret.widget.touch()
    audit.record(secret.widget_id, actor_id, "protect", secret.name, detail="made write-only")
    db.session.commit()


def describe_secret(secret: Secret, description: str, required: bool, actor_id: int) -> None:
    """Set the owner-only description and required flag of `secret`."""
    description = (description or "").strip()
    if len(description) > SECRET_DESCRIPTION_MAX:
        raise SecretChangeError(f"Descriptions can be at most {SECRET_DESCRIPTION_MAX} characters.")
    if description == secret.description and required == secret.required:
        return
    secret.description = description
    secret.required = required
    secret.widget.touch()
    audit.record(
        secret.widget_id,
        actor_id,
        "describe",
        secret.name,
        detail="required" if required else "optional",
    )
    db.session.commit()


def move_to_secret(widget: Widget, field: str, line: int, actor_id: int) -> Secret:
    """The one-click fix of a leak warning in server code: the quoted value on `line` goes into a
    secret (an existing one holding the same value, or a new one that gets the value) and the
    line reads it with anvil.secrets.get_secret(...) instead. Code and secret change together."""
    warning = next((w for w in leak_warnings(widget) if w.field == field and w.line == line), None)
    if warning is None or not warning.can_move or warning.literal is None:
        raise SecretChangeError(NOTHING_TO_MOVE)
    secret = next((s for s in widget.secrets if s.name == warning.secret_name), None)
    if secret is None or not _is_leaked_value(secret, warning):
        if error := quotas.new_secrets_error(widget.id):
            raise SecretChangeError(error)
        secret = Secret(widget_id=widget.id, name=_free_name(widget, warning.secret_name))
        db.session.add(secret)
        store_value(secret, literal_value(warning.literal))
        audit.record(
            widget.id, actor_id, "create", secret.name, detail=f"moved from code line {line}"
        )
    lines = widget.server_code.split("\n")
    lines[line - 1] = lines[line - 1].replace(
        warning.literal, f"anvil.secrets.get_secret({secret.name!r})", 1
    )
    code = "\n".join(lines)
    if not re.search(r"^\s*import anvil\.secrets\b", code, re.MULTILINE):
        code = "import anvil.secrets\n" + code
    widget.server_code = code
    widget.touch()
    db.session.commit()
    return secret


def _is_leaked_value(secret: Secret, warning) -> bool:
    # The warning named an existing secret only if the code holds that secret's value.
    return secret.fingerprint is not None and secret.fingerprint == vault.fingerprint(
        literal_value(warning.literal)
    )


def _free_name(widget: Widget, wanted: str) -> str:
    """`wanted` made into a valid secret name not yet used in `widget`."""
    base = re.sub(r"\W", "_", wanted)[:60] or "secret"
    if base[0].isdigit():
        base = "_" + base[:59]
    taken = {secret.name for secret in widget.secrets}
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name
