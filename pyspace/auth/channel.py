"""Answering `anvil.users` from inside a run (channel services).

`get_user()` is the run's account's row in the widget's Users table (tables/users.py): the
account is `run.actor_id`, fixed by the host when the run began, and never anyone else,
whatever the request says. A run remembers which row it is after the first ask (made and
brought up to date then); each ask reads the row's values afresh, as code may change them.

A log-in made by widget code (`force_login`, `login_with_email`, `logout`) changes only what
`get_user()` answers in this widget: for the rest of the run, and, in a GUI call with a
visitor session, for that session's later calls of this widget (kept on its WidgetSession
row) while the site's own log-in stays what it was when it was made. It never changes
`run.actor_id`, the site's session cookie, or what the account may do anywhere else.
`login_with_email` checks passwords through the log-in page's throttle (auth/throttle.py),
counted under the account as a browser without a device cookie would be.
"""

import logging
import re
from typing import Any

from flask import current_app, has_request_context
from limits import parse_many
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db, limiter
from ..models import (
    PASSWORD_MAX,
    USERNAME_RE,
    DataRow,
    DataTable,
    User,
    Widget,
    WidgetSession,
    utcnow,
)
from ..sandbox.services import Answer, RunContext, refusal
from ..tables import transactions
from ..tables.rows import RowChangeError, row_of
from ..tables.schema import TableChangeError
from ..tables.users import (
    account_of_row,
    ensure_users_table,
    row_answer,
    row_for_account,
    users_table,
)
from .email_confirmation import send_confirmation_link
from .throttle import forget_failures, give_back, record_failure, reserve_attempt

MEMO_KEY = "user"
# Row ids are database integers: anything else names no row.
MAX_ROW_ID = 2**62

log = logging.getLogger(__name__)


class UsersRequestError(Exception):
    """Ends an anvil.users request with a message and the Anvil exception widget code raises."""

    def __init__(self, message: str, error: str = "AuthenticationFailed") -> None:
        super().__init__(message)
        self.error = error


def _account(actor_id: int | None) -> User | None:
    user = db.session.get(User, actor_id) if actor_id is not None else None
    return None if user is None or user.is_disabled else user


def _session(run: RunContext) -> WidgetSession | None:
    if not run.session_id:
        return None
    return db.session.scalar(
        select(WidgetSession).filter_by(widget_id=run.widget_id, session_id=run.session_id)
    )


def _widget_login(run: RunContext) -> tuple[bool, int | None]:
    """(True, row id or None) when widget code logged this visitor session in (or out) while
    the site's account was the one this run has; else (False, None)."""
    found = _session(run)
    if found is None or not found.login_set or found.login_actor_id != run.actor_id:
        return False, None
    return True, found.login_row_id


def _remember_login(run: RunContext, row_id: int | None) -> None:
    """Keep the widget's own log-in (row `row_id`; None: logged out) for the visitor session's
    later calls of this widget. Outside a GUI call there is no session: the run alone."""
    if not run.session_id:
        return
    for _ in range(2):
        found = _session(run)
        if found is None:
            found = WidgetSession(widget_id=run.widget_id, session_id=run.session_id)
            db.session.add(found)
        found.login_set = True
        found.login_row_id = row_id
        found.login_actor_id = run.actor_id
        found.updated_at = utcnow()
        try:
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()  # the session's first save raced this one: update it


def _logged_in_row(run: RunContext, row_id: int) -> tuple[int, int] | None:
    """(table id, row id) for Users-table row `row_id` of an enabled account, brought up to
    date; None when the row or its account is gone or disabled."""
    table = users_table(run.widget_id)
    account = account_of_row(table, row_id) if table is not None else None
    if table is None or account is None or account.is_disabled:
        return None
    return table.id, row_for_account(table, account)


def _find_user_row(run: RunContext) -> tuple[int, int] | None:
    """(Users table id, row id) of the run's account, made or brought up to date; None for a
    visitor."""
    logged_in, row_id = _widget_login(run)
    if logged_in:
        return None if row_id is None else _logged_in_row(run, row_id)
    user = _account(run.actor_id)
    if user is None or (_requires_confirmed(run) and not user.email_confirmed):
        # With "require e-mail confirmation" an account whose address isn't confirmed is
        # not logged in to the widget, as in Anvil.
        return None
    table = ensure_users_table(run.widget_id)
    return table.id, row_for_account(table, user)


def _requires_confirmed(run: RunContext) -> bool:
    widget = db.session.get(Widget, run.widget_id)
    return widget is not None and widget.users_require_confirmed


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
    except (TableChangeError, RowChangeError, transactions.TransactionError) as error:
        return refusal(f"The Users table could not be used: {error}")
    except Exception:
        log.exception("get_user failed for widget %s", run.widget_id)
        db.session.rollback()
        return refusal("The Users table could not be used because of a problem on the server.")
    return {"ok": True, "user": user}


def _user_answer(run: RunContext, table: DataTable, row_id: int) -> Answer:
    run.memo[MEMO_KEY] = (table.id, row_id)
    _remember_login(run, row_id)
    return {"ok": True, "user": row_answer(table, row_id)}


def force_login(request: dict, run: RunContext) -> Answer:
    """Log the visitor in to this widget as a row of its Users table (and no other table's)."""
    table = users_table(run.widget_id)
    wanted = request.get("id")
    if not isinstance(wanted, (str, int)) or not str(wanted).isdigit() or int(wanted) > MAX_ROW_ID:
        wanted = None
    row_id = row_of(table, wanted) if table is not None and wanted is not None else None
    if table is None or request.get("table") != table.name or row_id is None:
        raise UsersRequestError(
            "force_login takes a row of this widget's app_tables.users.", "TypeError"
        )
    account = account_of_row(table, row_id)
    if account is None or account.is_disabled:
        raise UsersRequestError("That user's account is not enabled.", "AccountIsNotEnabled")
    return _user_answer(run, table, row_for_account(table, account))


def logout(request: dict, run: RunContext) -> Answer:
    """Log the visitor out of this widget (the site's own log-in is untouched)."""
    run.memo[MEMO_KEY] = None
    _remember_login(run, None)
    return {"ok": True}


def _text(request: dict, name: str) -> str:
    value = request.get(name)
    most = max(PASSWORD_MAX, 254)
    if not isinstance(value, str) or len(value) > most:
        raise UsersRequestError(f"The {name} must be text of at most {most} characters.")
    return value


def login_with_email(request: dict, run: RunContext) -> Answer:
    """Check a py.space account's e-mail address (or username) and password, through the log-in
    page's throttle, and log in to this widget as it."""
    name = _text(request, "email").strip().lower()
    password = _text(request, "password")
    if "@" in name:
        user = db.session.scalar(select(User).filter_by(email=User.normalize_email(name)))
    else:
        user = db.session.scalar(select(User).filter_by(username=User.normalize_username(name)))
    # Counted under the account's username when there is one (the log-in page's keys), else
    # under what was typed: an unknown address is counted just like a real one.
    keys, wait = reserve_attempt(user.username if user else name, f"widget:{run.widget_id}", None)
    if wait:
        raise UsersRequestError(
            f"Too many failed log-ins for this account: try again in {wait} seconds.",
            "TooManyPasswordFailures",
        )
    if not User.password_matches(user, password):
        record_failure(keys)
        raise UsersRequestError("Incorrect email address or password.")
    assert user is not None  # password_matches is False for no user
    if user.is_disabled:
        give_back(keys)
        raise UsersRequestError("This account is not enabled.", "AccountIsNotEnabled")
    forget_failures(keys)
    if _requires_confirmed(run) and not user.email_confirmed:
        raise UsersRequestError(
            "This account's e-mail address is not confirmed: open the link mailed to it "
            "(the py.space account page sends it again).",
            "EmailNotConfirmed",
        )
    table = ensure_users_table(run.widget_id)
    return _user_answer(run, table, row_for_account(table, user))


def _new_username(email: str) -> str:
    """A free username made from the address's local part ("ann.lee@x.org": "ann-lee", then
    "ann-lee2", …): sign-up from a widget asks for no username."""
    base = re.sub(r"[^a-z0-9_-]+", "-", email.partition("@")[0]).strip("-")[:28] or "user"
    base = base if len(base) >= 3 else f"{base}-user"
    for n in range(1, 1000):
        name = base if n == 1 else f"{base}{n}"
        taken = db.session.scalar(select(User.id).filter_by(username=name))
        if taken is None and USERNAME_RE.fullmatch(name):
            return name
    raise UsersRequestError("No free username could be made from that address.")


def _signups_left(widget_id: str) -> bool:
    """One more sign-up from this widget fits the site's SIGNUP_RATE_LIMIT (counted per
    widget, as the sign-up page counts per address)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    return all(
        limiter.limiter.hit(limit, "widget-signup", widget_id)
        for limit in parse_many(current_app.config["SIGNUP_RATE_LIMIT"])
    )


def _mail_confirmation_link(user: User) -> None:
    """Mail the new account's address its confirmation link, as the sign-up page does. The
    link is built on SITE_URL, else on the request being answered; a run on a worker of a site
    without SITE_URL has neither, and the person asks for the link on the account page."""
    try:
        if current_app.config["SITE_URL"]:
            with current_app.test_request_context(base_url=current_app.config["SITE_URL"]):
                send_confirmation_link(user)
        elif has_request_context():
            send_confirmation_link(user)
    except Exception:
        log.exception("mailing a confirmation link to a widget's new account failed")


def signup_with_email(request: dict, run: RunContext) -> Answer:
    """Make a py.space account (when the widget's owner allows it and the site's sign-up is
    open to anyone) and log in to this widget as it."""
    email = User.normalize_email(_text(request, "email"))
    password = _text(request, "password")
    widget = db.session.get(Widget, run.widget_id)
    if widget is None or not widget.users_allow_signup:
        raise UsersRequestError(
            "This widget does not let people sign up: its owner can allow it in the Data "
            "panel's Users settings."
        )
    if current_app.config["SIGNUP_MODE"] != "open":
        raise UsersRequestError("This site only takes new accounts on its sign-up page.")
    if email is None or (error := User.email_error(email)):
        raise UsersRequestError(error or "Give an e-mail address to sign up with.")
    if (error := User.password_error(password)) is not None:
        raise UsersRequestError(error, "PasswordNotAcceptable")
    if db.session.scalar(select(User.id).filter_by(email=email)) is not None:
        raise UsersRequestError("An account with that e-mail address already exists.", "UserExists")
    if not _signups_left(run.widget_id):
        raise UsersRequestError("Too many new accounts from this widget: try again later.")
    user = User(username=_new_username(email), email=email)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise UsersRequestError(
            "An account with that e-mail address already exists.", "UserExists"
        ) from None
    _mail_confirmation_link(user)
    table = ensure_users_table(run.widget_id)
    row_id = row_for_account(table, user)
    if widget.users_require_confirmed:
        # As in Anvil: the new account is returned but not logged in until its address is
        # confirmed.
        return {"ok": True, "user": row_answer(table, row_id)}
    return _user_answer(run, table, row_id)


def _outside_transactions(handler: Any) -> Any:
    """`handler` with its refusals turned into answers; never inside a data-table transaction
    (a failed password's count must not be rolled back with it)."""

    def answer(request: dict, run: RunContext) -> Answer:
        if transactions.MEMO_KEY in run.memo:
            return {
                "ok": False,
                "message": "Log in or out outside data-table transactions.",
                "error": "AuthenticationFailed",
            }
        try:
            return handler(request, run)
        except UsersRequestError as error:
            return {"ok": False, "message": str(error), "error": error.error}
        except (TableChangeError, RowChangeError) as error:
            return refusal(f"The Users table could not be used: {error}")
        except Exception:
            log.exception("anvil.users request failed for widget %s", run.widget_id)
            db.session.rollback()
            return refusal("Logging in could not be done because of a problem on the server.")

    return answer


SERVICES = {
    "get_user": get_user,
    "users_force_login": _outside_transactions(force_login),
    "users_logout": _outside_transactions(logout),
    "users_login_with_email": _outside_transactions(login_with_email),
    "users_signup_with_email": _outside_transactions(signup_with_email),
}
