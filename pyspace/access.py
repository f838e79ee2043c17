"""Finding widgets for the current user: 404 — never a hint — when they may not see it."""

from flask import abort, g
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .extensions import db, login_manager
from .models import Widget

# A widget's server modules (a run, the editor and the page need them) joined into the
# statement that loads the widget: the relationship's default, a second SELECT, cost about
# twice as much CPU per request.
_WITH_MODULES = (joinedload(Widget.modules),)


def visible_widget_or_404(widget_id: str) -> Widget:
    """The widget if it is public or the current user's own, else 404 (with its owner loaded:
    the widget's page shows the owner's name, and templates don't query). Its server modules
    come in the same statement (`_WITH_MODULES`)."""
    widget = db.session.get(Widget, widget_id, options=[joinedload(Widget.owner), *_WITH_MODULES])
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
    widget = db.session.get(Widget, widget_id, options=_WITH_MODULES)
    if widget is None or not widget.is_owned_by(current_user):
        abort(404)
    return widget
