"""Answering `anvil.secrets` from inside a run (channel services): `get_secret(name)`, and
`encrypt_with_key(name, text)` / `decrypt_with_key(name, ciphertext)`.

One lookup (one decryption, one audited "use") per secret or key per run: code that reads a
secret or encrypts in a loop must not flood the audit log or pay for the database every time,
so later requests for the same name are answered from the run's memo.

Keys are used here, host-side: the text and the ciphertext cross the channel, the key never
does. The text is the widget's own data, not a secret of the site's, so it is not added to
the run's redaction set (masking it would hide the widget's own output from its users).
"""

import logging

from ..extensions import db
from ..sandbox.services import Answer, RunContext, refusal
from .lookup import SecretLookupError, key_for_run, value_for_run
from .vault import KeyTokenError, WidgetKey

log = logging.getLogger(__name__)

# Distinct secret names one run may look up: enough for any real widget, and a bound on the
# database work code can cause by asking for name after made-up name.
MAX_SECRET_LOOKUPS = 100


def get_secret(request: dict, run: RunContext) -> Answer:
    """The value of the run's widget's secret `request["name"]`, or why not."""
    name = request.get("name")
    if not isinstance(name, str):
        return refusal("Secret names are strings, like get_secret('api_key')")
    known: dict[str, Answer] = run.memo.setdefault("secrets", {})
    if name not in known:
        if len(known) >= MAX_SECRET_LOOKUPS:
            return refusal(f"A run may read at most {MAX_SECRET_LOOKUPS} different secrets.")
        known[name] = _look_up(name, run)
    return known[name]


def _look_up(name: str, run: RunContext) -> Answer:
    try:
        value = value_for_run(run.widget_id, name, run.actor_id)
    except SecretLookupError as error:
        return refusal(str(error))
    except Exception:
        # A server-side failure (database, key) must not end the run with our traceback.
        log.exception("secret lookup failed for widget %s", run.widget_id)
        db.session.rollback()
        return refusal(
            f"The secret {name!r} could not be read because of a problem on the server. "
            "Please try again later."
        )
    run.redactor.add(value)
    return {"ok": True, "value": value}


def encrypt_with_key(request: dict, run: RunContext) -> Answer:
    """`request["plaintext"]` encrypted with the run's widget's key `request["name"]`."""
    plaintext = request.get("plaintext")
    if not isinstance(plaintext, str):
        return refusal("encrypt_with_key encrypts a string, like encrypt_with_key('key', 'text')")
    key = _key(request.get("name"), run)
    if not isinstance(key, WidgetKey):
        return key
    return {"ok": True, "value": key.encrypt(plaintext)}


def decrypt_with_key(request: dict, run: RunContext) -> Answer:
    """The text `request["ciphertext"]` was made from, if the key `request["name"]` made it."""
    name, ciphertext = request.get("name"), request.get("ciphertext")
    if not isinstance(ciphertext, str):
        return refusal(
            "decrypt_with_key decrypts the string encrypt_with_key returned, "
            "like decrypt_with_key('key', ciphertext)"
        )
    key = _key(name, run)
    if not isinstance(key, WidgetKey):
        return key
    try:
        return {"ok": True, "value": key.decrypt(ciphertext)}
    except KeyTokenError as error:
        return refusal(f"This ciphertext can't be decrypted with the key {name!r}: {error}.")


def _key(name: object, run: RunContext) -> WidgetKey | Answer:
    """The run's widget's key `name` (looked up once per run), or a refusal saying why not."""
    if not isinstance(name, str):
        return refusal("Key names are strings, like encrypt_with_key('my_key', text)")
    known: dict[str, WidgetKey | Answer] = run.memo.setdefault("keys", {})
    if name not in known:
        if len(known) >= MAX_SECRET_LOOKUPS:
            return refusal(f"A run may use at most {MAX_SECRET_LOOKUPS} different keys.")
        known[name] = _look_up_key(name, run)
    return known[name]


def _look_up_key(name: str, run: RunContext) -> WidgetKey | Answer:
    try:
        return key_for_run(run.widget_id, name, run.actor_id)
    except SecretLookupError as error:
        return refusal(str(error))
    except Exception:
        log.exception("key lookup failed for widget %s", run.widget_id)
        db.session.rollback()
        return refusal(
            f"The key {name!r} could not be used because of a problem on the server. "
            "Please try again later."
        )


SERVICES = {
    "get_secret": get_secret,
    "encrypt_with_key": encrypt_with_key,
    "decrypt_with_key": decrypt_with_key,
}
