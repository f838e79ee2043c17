"""GUI widgets: the sandboxed frame, client runtime and server-function calls."""

from flask import Blueprint, Flask

bp = Blueprint("gui", __name__)

from . import routes  # noqa: E402,F401
from .frame_boot import handed_runtime_files  # noqa: E402


def init_app(app: Flask) -> None:
    """Plug the gui pages into the app."""
    app.register_blueprint(bp)
    # gui/_frame.html, on every page that embeds a frame, starts these downloads for it.
    app.add_template_global(handed_runtime_files, "gui_handed_runtime_files")
