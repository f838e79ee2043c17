"""What a GUI widget's frame document hands to static/js/gui-frame.js to boot the widget."""

from functools import cache
from pathlib import Path

from flask import current_app

from ..models import Widget
from .frame_policy import CLIENT_RUNTIME_DIR, PYODIDE_DIR, call_route_prefix
from .snapshot import snapshot_url

CALL_TOKEN_HEADER = "X-Call-Token"


@cache
def _runtime_files(runtime_dir: str) -> tuple[str, ...]:
    root = Path(runtime_dir)
    return tuple(sorted(path.relative_to(root).as_posix() for path in root.rglob("*.py")))


def client_runtime_files() -> tuple[str, ...]:
    """The client `anvil` package's files, relative to static/gui-runtime/ (read once)."""
    static_folder = current_app.static_folder
    assert static_folder is not None  # create_app serves static/
    return _runtime_files(str(Path(static_folder) / "gui-runtime"))


def frame_boot_config(
    widget: Widget,
    call_token: str,
    viewer_username: str | None,
    viewer_email: str | None = None,
) -> dict:
    """The JSON the frame boots from: the widget's HTML and client code, where Pyodide and the
    client runtime are, and how to call this widget's server functions. Never a secret.

    Of the viewer it carries the username and e-mail address alone (None: anonymous), for
    client code's `anvil.users.get_user()`; the same answer the widget's server functions get
    anyway."""
    return {
        "html": widget.html,
        "clientCode": widget.client_code,
        "pyodideUrl": PYODIDE_DIR,
        # Pyodide's memory after start-up, when this deployment has made one (snapshot.py).
        "snapshotUrl": snapshot_url(),
        "runtimeUrl": CLIENT_RUNTIME_DIR,
        "runtimeFiles": list(client_runtime_files()),
        "callUrl": call_route_prefix(widget.id),
        "callTokenHeader": CALL_TOKEN_HEADER,
        "callToken": call_token,
        "viewerUsername": viewer_username,
        "viewerEmail": viewer_email,
    }
