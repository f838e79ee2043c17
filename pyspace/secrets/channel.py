"""Answering `anvil.secrets.get_secret(name)` from inside a run (a channel service).

One lookup (one decryption, one audited "use") per secret per run: code that reads a key in a
loop must not flood the audit log or pay for the database every time, so later requests for
the same name are answered from the run's memo.
"""

import logging

from ..extensions import db
from ..sandbox.services import Answer, RunContext, refusal
from .lookup import SecretLookupError, value_for_run

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


SERVICES = {"get_secret": get_secret}
