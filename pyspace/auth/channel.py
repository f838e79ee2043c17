"""Answering `anvil.users.get_user()` from inside a run (a channel service).

The answer is the account that started the run — `run.actor_id`, fixed by the host when the
run began — and never anyone else, whatever the request says. A run remembers it after the
first ask, so code calling `get_user()` in a loop costs one query.
"""

from ..extensions import db
from ..models import User
from ..sandbox.services import Answer, RunContext


def get_user(request: dict, run: RunContext) -> Answer:
    """`{"ok": True, "user": {"id", "username", "email"}}` for the run's account, or
    `"user": None` for an anonymous viewer or a scheduled task."""
    if "user" not in run.memo:
        run.memo["user"] = _describe(run.actor_id)
    return {"ok": True, "user": run.memo["user"]}


def _describe(actor_id: int | None) -> dict | None:
    user = db.session.get(User, actor_id) if actor_id is not None else None
    if user is None or user.is_disabled:
        return None
    # The account's address (None when it has none), as Anvil's user['email'].
    return {"id": user.id, "username": user.username, "email": user.email}


SERVICES = {"get_user": get_user}
