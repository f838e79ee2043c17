"""Finding widgets for the current user: 404 — never a hint — when they may not see it."""

from flask import abort, g
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .extensions import db, login_manager
from .models import Widget

# A widget's server modules (a run, the editor and the page need them) joined into the
# statement that loads the widget: the relationship's default, a second SELECT, cost about
# twice as much CPU per request.
# Both statements are built once: `session.get(..., options=...)` built one per request and
# SQLAlchemy walked it for its cache key, about half the CPU of the look-up (see
# widgets/listing.py). Loaded by their primary key, as `session.get` would.
_OWNED = select(Widget).where(Widget.id == bindparam("id")).options(joinedload(Widget.modules))
# The widget's page shows the owner's name, and templates don't query.
_VISIBLE = _OWNED.options(joinedload(Widget.owner))


def _widget(statement, widget_id: str) -> Widget | None:
    return db.session.execute(statement, {"id": widget_id}).unique().scalar_one_or_none()


def visible_widget_or_404(widget_id: str) -> Widget:
    """The widget if it is public or the current user's own, else 404 (with its owner loaded:
    the widget's page shows the owner's name, and templates don't query). Its server modules
    come in the same statement."""
    widget = _widget(_VISIBLE, widget_id)
    if widget is None or not widget.is_visible_to(current_user):
        abort(404)
    return widget


def load_owned_widget(endpoint: str | None, values: dict | None) -> None:
    """`url_value_preprocessor` of the blueprints whose `url_prefix` is `/widgets/<widget_id>/…`
    and whose every route is the owner's alone: the widget goes into `g.widget` (the views get no
    `widget_id`), and anyone but its owner gets 404 before any view runs."""
    if values is not None and "widget_id" in values:
        g.widget = owned_widget_or_404(values.pop("widget_id"))


def send_visitors_to_log_in(endpoint: str | None, values: dict | None) -> None:
    """`url_value_preprocessor` run before `load_owned_widget` on the blueprints of pages an
    owner opens from a link or a bookmark (the editor, an import's report): an anonymous
    visitor is sent to log in and back, as `login_required` does, rather than shown 404."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())


def owned_widget_or_404(widget_id: str) -> Widget:
    """The widget if the current user owns it, else 404 (also for public widgets)."""
    widget = _widget(_OWNED, widget_id)
    if widget is None or not widget.is_owned_by(current_user):
        abort(404)
    return widget
