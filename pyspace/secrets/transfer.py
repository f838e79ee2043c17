"""Many secrets at once: `.env` import (previewed, all-or-nothing) and export.

A preview says what each line would do without decrypting anything: whether a value would
change is decided by comparing keyed fingerprints (see vault.fingerprint).

Encryption keys take no part: a key has no value to import or export (nobody ever sees its
bytes). An import line naming a key is skipped, and exports list keys in a comment only.
"""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from .. import audit, quotas
from ..extensions import db
from ..models import Secret, Widget, utcnow
from . import vault
from .changes import SecretChangeError, store_value
from .env_files import Entry, LineError, comment_line, dotenv_line, parse_dotenv

MAX_IMPORT_LINES = 500


@dataclass
class PlannedChange:
    name: str
    line: int
    action: str  # "create", "replace", "clear", "unchanged", "skip-key"


def plan_import(
    widget: Widget, text: str
) -> tuple[list[PlannedChange], list[LineError], list[Entry]]:
    """What importing `text` into `widget` would do, and the errors that would stop it."""
    entries, errors = parse_dotenv(text)
    if len(entries) > MAX_IMPORT_LINES:
        errors.append(LineError(0, f"At most {MAX_IMPORT_LINES} secrets can be imported at once."))
    existing = {secret.name: secret for secret in widget.secrets}
    changes = []
    for entry in entries:
        secret = existing.get(entry.name)
        if secret is None:
            action = "create"
        elif secret.is_key:
            action = "skip-key"
        elif entry.value == "":
            action = "unchanged" if secret.is_blank else "clear"
        elif (
            secret.fingerprint is not None and vault.fingerprint(entry.value) == secret.fingerprint
        ):
            action = "unchanged"
        else:
            action = "replace"
        changes.append(PlannedChange(entry.name, entry.line, action))
    creates = sum(1 for change in changes if change.action == "create")
    if creates and (quota_error := quotas.new_secrets_error(widget.id, creates)):
        errors.append(LineError(0, quota_error))
    if not entries and not errors:
        errors.append(LineError(0, "There is nothing to import: no NAME=value lines."))
    return changes, errors, entries


def apply_import(widget: Widget, text: str, actor_id: int) -> list[PlannedChange]:
    """Import `text` in one transaction; a bad line raises SecretChangeError, changing nothing."""
    changes, errors, entries = plan_import(widget, text)
    if errors:
        raise SecretChangeError("Nothing was imported: fix the lines marked below.")
    existing = {secret.name: secret for secret in widget.secrets}
    values = {entry.name: entry.value for entry in entries}
    for change in changes:
        if change.action in ("unchanged", "skip-key"):
            continue
        secret = existing.get(change.name)
        if secret is None:
            secret = Secret(widget_id=widget.id, name=change.name)
            db.session.add(secret)
        store_value(secret, values[change.name])
        audit.record(widget.id, actor_id, "import", change.name, detail=change.action)
    widget.touch()
    try:
        db.session.commit()
    except IntegrityError:
        # Another tab created one of these names a moment ago: nothing was applied.
        db.session.rollback()
        raise SecretChangeError(
            "The secrets changed while importing; nothing was imported. Preview again."
        ) from None
    return changes


def env_example(widget: Widget) -> str:
    """`.env.example` text: every name with a blank value, descriptions as comments."""
    header = comment_line(
        f"Secrets of the py.space widget “{widget.title}” — fill in your own values."
    )
    header += "\n"
    secrets = [secret for secret in widget.secrets if not secret.is_key]
    lines = [dotenv_line(s.name, "", s.description, s.required) for s in secrets]
    return header + "".join(line + "\n" for line in lines + key_notes(widget))


def key_notes(widget: Widget) -> list[str]:
    """Comment lines naming the widget's encryption keys, which no .env file ever carries."""
    names = [secret.name for secret in widget.secrets if secret.is_key]
    if not names:
        return []
    return [
        "# Encryption keys are not exported (nobody ever sees a key): "
        + ", ".join(names)
        + ". Create them with Create Key in the Secrets panel."
    ]


def env_with_values(widget: Widget, actor_id: int) -> str:
    """`.env` text with the values (owner only, audited). Write-only values stay out of it."""
    lines = []
    secrets = [secret for secret in widget.secrets if not secret.is_key]
    for secret in secrets:
        if secret.write_only:
            lines.append(f"# {secret.name} is write-only: its value is not exported.")
            lines.append(dotenv_line(secret.name, "", secret.description, secret.required))
            continue
        value = "" if secret.ciphertext is None else vault.decrypt_value(secret.ciphertext)
        lines.append(dotenv_line(secret.name, value, secret.description, secret.required))
        if value:
            secret.last_viewed_at = utcnow()
    audit.record(
        widget.id, actor_id, "export", None, detail=f"{len(secrets)} secret(s) with values"
    )
    db.session.commit()
    return "".join(line + "\n" for line in lines + key_notes(widget))
