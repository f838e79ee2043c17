"""Forks: copying a widget — everything but its secret values."""

from flask import Blueprint, Flask

from ..access import load_owned_widget

bp = Blueprint("forks", __name__)
# A fork's editor boxes, its owner's alone: the widget is loaded into g.widget. Nested in `bp`
# (endpoints `forks.owner.…`), so bp's hooks cover it too; forking itself is for visitors.
owner_bp = Blueprint("owner", __name__, url_prefix="/widgets/<widget_id>")
owner_bp.url_value_preprocessor(load_owned_widget)

from . import routes  # noqa: E402,F401

bp.register_blueprint(owner_bp)


def init_app(app: Flask) -> None:
    """Plug the forks pages into the app."""
    app.register_blueprint(bp)
