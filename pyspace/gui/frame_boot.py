"""What a GUI widget's frame document hands to static/js/gui-frame.js to boot the widget."""

import json
from functools import cache
from pathlib import Path

from flask import current_app, url_for

from ..models import Widget
from ..static_urls import content_version, static_url
from .frame_policy import CLIENT_RUNTIME_DIR, MICROPYTHON_DIR, PYODIDE_DIR, call_route_prefix
from .micropython import compiled_for_micropython
from .snapshot import runtime_sources, snapshot_url

CALL_TOKEN_HEADER = "X-Call-Token"


class RuntimeBundle:
    """The client `anvil` package's files (paths relative to static/gui-runtime/), and the same
    files as one JSON document, [[path, source], ...], named by a hash of its bytes."""

    def __init__(self, files: list[tuple[str, str]]) -> None:
        self.files = tuple(path for path, _ in files)
        self.body = json.dumps(files).encode()
        self.version = content_version(self.body)


@cache
def _runtime_bundle(static_folder: str) -> RuntimeBundle:
    return RuntimeBundle(runtime_sources(Path(static_folder)))


@cache
def _micropython_bundle(static_folder: str) -> RuntimeBundle:
    return RuntimeBundle(compiled_for_micropython(runtime_sources(Path(static_folder))))


def client_runtime(micropython: bool = False) -> RuntimeBundle:
    """The client runtime, read once: an upgrade replaces the files and restarts the server.
    For MicroPython frames, its modules compiled to MicroPython's bytecode (gui/micropython.py)."""
    static_folder = current_app.static_folder
    assert static_folder is not None  # create_app serves static/
    if micropython:
        return _micropython_bundle(static_folder)
    return _runtime_bundle(static_folder)


def client_runtime_files() -> tuple[str, ...]:
    """The client `anvil` package's files, relative to static/gui-runtime/."""
    return client_runtime().files


# The Pyodide files the page embedding a frame downloads for it (names in PYODIDE_DIR): the
# biggest ones, which the frame's opaque origin could only download again on every load.
HANDED_PYODIDE_FILES = {
    "wasm": "pyodide.asm.wasm",
    "stdlib": "python_stdlib.zip",
    "lock": "pyodide-lock.json",
}
# MicroPython's one big file (its loader, micropython.mjs, is a module the frame imports).
HANDED_MICROPYTHON_FILE = "micropython.wasm"


def handed_runtime_files(widget: Widget | None = None) -> dict[str, str]:
    """What the page embedding GUI frames downloads and hands to each of them, by role: URLs of
    public files that change name when their bytes change (`?v=` their hash as static_url
    gives it, the snapshot's hashed name, the runtime bundle's version), so they are served as
    immutable and come from the page's HTTP cache on the next visit. Nothing here is a secret
    or depends on the viewer. `widget` running on MicroPython gets MicroPython's file instead
    of Pyodide's."""
    micropython = widget is not None and widget.runs_on_micropython
    if micropython:
        files = {"micropython": static_url(f"vendor/micropython/{HANDED_MICROPYTHON_FILE}")}
    else:
        files = {
            role: static_url(f"vendor/pyodide/{name}")
            for role, name in HANDED_PYODIDE_FILES.items()
        }
        snapshot = snapshot_url()
        if snapshot is not None:
            files["snapshot"] = snapshot
    # The client runtime in one answer: the frame would otherwise fetch its files one by one on
    # every load (over thirty requests), as its opaque origin has no HTTP cache.
    runtime = client_runtime(micropython=micropython)
    files["runtime"] = url_for("gui.client_runtime_bundle", version=runtime.version)
    return files


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
        # "pyodide" or "micropython" (Widget.client_python).
        "clientPython": widget.client_python,
        "pyodideUrl": PYODIDE_DIR,
        "micropythonUrl": MICROPYTHON_DIR,
        # Pyodide's memory after start-up, when this deployment has made one (snapshot.py).
        "snapshotUrl": None if widget.runs_on_micropython else snapshot_url(),
        "runtimeUrl": CLIENT_RUNTIME_DIR,
        "runtimeFiles": list(client_runtime_files()),
        "callUrl": call_route_prefix(widget.id),
        "callTokenHeader": CALL_TOKEN_HEADER,
        "callToken": call_token,
        "viewerUsername": viewer_username,
        "viewerEmail": viewer_email,
    }
