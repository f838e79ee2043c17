"""Teacher tools: classes with a join code, their pupils' widgets, handing a widget out to a
whole class, password-reset and first-log-in links, and accounts made in bulk from a CSV."""

from flask import Blueprint, Flask

from ..security_headers import no_store

bp = Blueprint("classes", __name__)
# Every answer is one teacher's or one pupil's alone (pupils' code, one-time links).
bp.after_request(no_store)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the class pages and the one-time log-in link into the app."""
    app.register_blueprint(bp)
