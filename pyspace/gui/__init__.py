"""GUI widgets: the sandboxed frame, client runtime and server-function calls."""

from flask import Blueprint

bp = Blueprint("gui", __name__)

from . import routes  # noqa: E402,F401
