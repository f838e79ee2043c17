"""Answering `anvil.users` from inside a run (channel services).

`get_user()` is the run's account's row in the widget's Users table (tables/users.py): the
account is `run.actor_id`, fixed by the host when the run began, and never anyone else,
whatever the request says. A run remembers which row it is after the first ask (made and
brought up to date then); each ask reads the row's values afresh, as code may change them.
"""

from sqlalchemy import select

from ..extensions import db
from ..models import DataRow, DataTable, User
from ..sandbox.services import Answer, RunContext, refusal
from ..tables import transactions
from ..tables.schema import TableChangeError
from ..tables.users import ensure_users_table, row_answer, row_for_account

MEMO_KEY = "user"


def _account(actor_id: int | None) -> User | None:
    user = db.session.get(User, actor_id) if actor_id is not None else None
    return None if user is None or user.is_disabled else user


def _find_user_row(run: RunContext) -> tuple[int, int] | None:
    """(Users table id, row id) of the run's account, made or brought up to date; None for a
    visitor."""
    user = _account(run.actor_id)
    if user is None:
        return None
    table = ensure_users_table(run.widget_id)
    return table.id, row_for_account(table, user)


def _user_row(run: RunContext) -> dict | None:
    """The run's user as a Users-table row (channel form), or None for a visitor."""
    if MEMO_KEY not in run.memo:
        run.memo[MEMO_KEY] = _find_user_row(run)
    found = run.memo[MEMO_KEY]
    if found is None:
        return None
    table_id, row_id = found
    table = db.session.scalar(select(DataTable).filter_by(id=table_id, widget_id=run.widget_id))
    exists = db.session.scalar(select(DataRow.id).filter_by(id=row_id, table_id=table_id))
    if table is None or exists is None:
        # The owner deleted the row (or the table) during the run: made again.
        del run.memo[MEMO_KEY]
        return _user_row(run)
    return row_answer(table, row_id)


def get_user(request: dict, run: RunContext) -> Answer:
    """`{"ok": True, "user": {"table", "id", "values"}}`: the run's account's row of the
    widget's Users table, or `"user": None` for a visitor or a scheduled task."""
    try:
        user = transactions.within(run, lambda: _user_row(run))
    except (TableChangeError, transactions.TransactionError) as error:
        return refusal(f"The Users table could not be used: {error}")
    return {"ok": True, "user": user}


SERVICES = {"get_user": get_user}
