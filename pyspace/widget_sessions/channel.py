"""Reading and saving a run's `anvil.server.session` (channel services).

A run has a session only when it is a GUI call with a visitor session (see gui/visitors.py);
it reads and writes that visitor's session of the run's widget and no other. Values are JSON
values, at most SESSION_MAX_BYTES as JSON; sessions unused for SESSION_DAYS are forgotten.
"""

import json
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..models import WidgetSession, utcnow
from ..sandbox.services import Answer, RunContext, refusal


def _row(run: RunContext) -> WidgetSession | None:
    return db.session.scalar(
        select(WidgetSession).filter_by(widget_id=run.widget_id, session_id=run.session_id)
    )


def get_session(request: dict, run: RunContext) -> Answer:
    """The run's session: its id and its data ({} when new; no id outside a GUI call)."""
    if not run.session_id:
        return {"ok": True, "id": None, "data": {}}
    row = _row(run)
    return {"ok": True, "id": run.session_id, "data": json.loads(row.data_json) if row else {}}


def set_session(request: dict, run: RunContext) -> Answer:
    """Save the run's session data (refused past the size cap or if it is not JSON)."""
    if not run.session_id:
        return {"ok": True}
    data = request.get("data")
    if not isinstance(data, dict):
        return refusal("anvil.server.session must stay a dict")
    text = json.dumps(data, separators=(",", ":"))
    cap = int(current_app.config["SESSION_MAX_BYTES"])
    if len(text.encode("utf-8")) > cap:
        return refusal(
            f"anvil.server.session holds {len(text):,} bytes as JSON; the most it may hold is "
            f"{cap:,}. Keep large data in a data table and its id in the session."
        )
    row = _row(run)
    if row is None:
        # Sessions unused for SESSION_DAYS go as new ones come.
        cutoff = utcnow() - timedelta(days=int(current_app.config["SESSION_DAYS"]))
        db.session.execute(delete(WidgetSession).where(WidgetSession.updated_at < cutoff))
        row = WidgetSession(widget_id=run.widget_id, session_id=run.session_id)
        db.session.add(row)
    row.data_json = text
    row.updated_at = utcnow()
    db.session.commit()
    return {"ok": True}


SERVICES = {"get_session": get_session, "set_session": set_session}
