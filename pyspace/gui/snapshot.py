"""Pyodide's memory snapshot: Python started once per deployment, restored by every GUI frame.

Starting CPython in WebAssembly (initialising the interpreter, importing its start-up modules from
the zipped standard library) is most of a GUI widget's first load: seconds on a busy machine.
Pyodide can dump its memory after start-up and restore it instead (`_makeSnapshot` /
`makeMemorySnapshot()` / `_loadSnapshot`), which takes a fraction of that.

The snapshot is made here by booting the vendored Pyodide in headless Chromium (through
Playwright, the same browser the tests drive), gzipped, and served from
`static/vendor/pyodide/snapshot/` under a name keyed by the hash of everything it was made from:
a new Pyodide or a new way of making it means a new name, never a stale snapshot.
`./manage.sh serve` runs `main()` below, which makes it when it is missing.
Without a snapshot, frames start Python the slow way.

The snapshot also holds the client `anvil` runtime (static/gui-runtime/) imported, as nearly all
client code imports it first: compiling and running those modules was a tenth of a first load.
So the runtime's files are among what the snapshot is named by, and the runtime never touches
the frame's channel (`_pyspace_frame`, registered per frame) while it is imported.

What frames restored from one snapshot share: the interpreter's state after start-up. The frame
seeds `random` again after a restore (Pyodide imports it while starting, so its generator state
is in the snapshot); the string-hash seed stays shared, which only matters to hash flooding, and
client code could only flood its own viewer's tab. Nothing of the deployment is in it: it is
made in a blank page from the public Pyodide files, with a fixed environment.

Why Chromium and not Node.js: Pyodide records at start-up whether the JavaScript engine can
stack-switch (JSPI), and the snapshot keeps that record. `anvil.server.call` waits for the server
through JSPI; Debian's Node.js 20 only has the first, incompatible version of that API, and a
snapshot made there crashes the frame ("trying to suspend JS frames") at the first call.
"""

import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from flask import current_app

from .frame_policy import PYODIDE_DIR

STATIC_ROOT = Path(__file__).resolve().parents[2] / "static"
# The files that decide what is in memory after start-up: the snapshot is only valid with them
# (and with the client runtime's files, see runtime_sources).
PYODIDE_INPUTS = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
RUNTIME_SUBDIR = "gui-runtime"
SNAPSHOT_SUBDIR = "snapshot"
SNAPSHOT_PREFIX = f"{PYODIDE_DIR}{SNAPSHOT_SUBDIR}/"
MAKE_TIMEOUT_MS = 300_000
CONTENT_TYPES = {
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
}

# Runs in the maker's page, given the client runtime's files ([path, source] each). What it
# imports is what the client `anvil` runtime and running client code import first: already in
# memory after a restore. Not `random` (every frame would share its seed) nor anything holding a
# JavaScript object. The runtime goes where the frame puts it (static/js/gui-frame.js,
# installClientRuntime), and only site-packages' finder is told of it, as there: invalidating
# every cache would leave the standard library's zip index to be read again by every frame.
MAKER_SCRIPT = """async (runtime) => {
  if (!("Suspending" in WebAssembly)) throw new Error("this Chromium has no JSPI");
  const { loadPyodide } = await import("/pyodide/pyodide.mjs");
  const pyodide = await loadPyodide({
    indexURL: new URL("/pyodide/", location.href).href,
    env: { HOME: "/home/pyodide" },
    _makeSnapshot: true,
  });
  pyodide.runPython(`
import base64, builtins, datetime, functools, importlib, json, math, mimetypes, site
import pyodide.code, pyodide.ffi
`);
  const sitePackages = pyodide.runPython("site.getsitepackages()[0]");
  for (const [file, source] of runtime) {
    const path = sitePackages + "/" + file;
    pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(path, source);
  }
  pyodide.runPython(`
import sys
finder = sys.path_importer_cache.get(${JSON.stringify(sitePackages)})
if finder is not None: finder.invalidate_caches()
del finder
import anvil, anvil.media, anvil.server, anvil.tables, anvil.tables.query, anvil.users
`);
  const response = await fetch("/snapshot", { method: "POST", body: pyodide.makeMemorySnapshot() });
  if (!response.ok) throw new Error("could not hand the snapshot over");
}"""


def pyodide_dir(static_folder: Path) -> Path:
    return static_folder / PYODIDE_DIR.removeprefix("/static/").strip("/")


def runtime_sources(static_folder: Path) -> list[tuple[str, str]]:
    """The client `anvil` runtime's files, [path under static/gui-runtime/, source] each."""
    root = static_folder / RUNTIME_SUBDIR
    return [
        (path.relative_to(root).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(root.rglob("*.py"))
    ]


@cache
def snapshot_name(static_folder: Path) -> str:
    """The snapshot's file name: a hash of the Pyodide files, the client runtime's files and the
    script that makes it."""
    digest = hashlib.sha256()
    for name in PYODIDE_INPUTS:
        digest.update(name.encode() + b"\0" + (pyodide_dir(static_folder) / name).read_bytes())
    for path, source in runtime_sources(static_folder):
        digest.update(path.encode() + b"\0" + source.encode() + b"\0")
    digest.update(MAKER_SCRIPT.encode())
    return f"pyodide-{digest.hexdigest()[:20]}.bin.gz"


def snapshot_path(static_folder: Path) -> Path:
    return pyodide_dir(static_folder) / SNAPSHOT_SUBDIR / snapshot_name(static_folder)


def snapshot_url() -> str | None:
    """The URL a frame restores Pyodide from, or None when this deployment has no snapshot."""
    static_folder = current_app.static_folder
    assert static_folder is not None  # create_app serves static/
    path = snapshot_path(Path(static_folder))
    if not path.is_file():
        return None
    return SNAPSHOT_PREFIX + path.name


def _maker_server(pyodide_files: Path, received: Path) -> ThreadingHTTPServer:
    """A loopback server for the maker's page: the Pyodide files, and where the snapshot goes."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.removeprefix("/pyodide/")
            path = pyodide_files / name
            if self.path == "/":
                self._answer(200, "text/html", b"<!doctype html><title>snapshot</title>")
            elif self.path.startswith("/pyodide/") and "/" not in name and path.is_file():
                self._answer(
                    200,
                    CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
                    path.read_bytes(),
                )
            else:
                self._answer(404, "text/plain", b"not found")

        def do_POST(self) -> None:
            if self.path != "/snapshot":
                self._answer(404, "text/plain", b"not found")
                return
            received.write_bytes(self.rfile.read(int(self.headers["Content-Length"])))
            self._answer(200, "text/plain", b"ok")

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def chromium_path() -> str | None:
    """Debian's Chromium, as the browser tests use it (PYSPACE_CHROMIUM overrides)."""
    return os.environ.get("PYSPACE_CHROMIUM") or shutil.which("chromium")


def make_snapshot(static_folder: Path = STATIC_ROOT, chromium: str | None = None) -> Path:
    """Make the snapshot for the vendored Pyodide (unless it exists) and remove older ones."""
    from playwright.sync_api import sync_playwright  # only the deployment step needs it

    target = snapshot_path(static_folder)
    if target.is_file():
        return target
    executable = chromium or chromium_path()
    if executable is None:
        raise RuntimeError("no Chromium to make the snapshot with")
    target.parent.mkdir(parents=True, exist_ok=True)
    # A public static file like the rest of static/ (serve() runs this under umask 077).
    target.parent.chmod(0o755)
    with tempfile.TemporaryDirectory() as work:
        raw = Path(work) / "snapshot.bin"
        server = _maker_server(pyodide_dir(static_folder), raw)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=executable,
                    headless=True,
                    # Nothing but the loopback page: no background connections to the internet.
                    # A container's 64 MB /dev/shm is too small for Pyodide's page.
                    args=[
                        "--no-sandbox",
                        "--disable-dev-shm-usage",
                        "--disable-gpu",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--disable-quic",
                    ],
                )
                try:
                    page = browser.new_page()
                    page.set_default_timeout(MAKE_TIMEOUT_MS)
                    page.goto(f"http://127.0.0.1:{server.server_port}/")
                    page.evaluate(MAKER_SCRIPT, runtime_sources(static_folder))
                finally:
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()
        partial = target.with_name(target.name + ".partial")
        with raw.open("rb") as source, gzip.open(partial, "wb", compresslevel=6) as packed:
            shutil.copyfileobj(source, packed)
        partial.chmod(0o644)
        os.replace(partial, target)
    for old in target.parent.glob("pyodide-*.bin.gz"):
        if old != target:
            old.unlink()
    return target


def main() -> int:
    try:
        path = make_snapshot()
    except Exception as error:  # the site works without it, only slower
        print(
            f"No Pyodide snapshot ({error}): GUI widgets will start Python the slow way.",
            file=sys.stderr,
        )
        return 0
    print(f"Pyodide snapshot: {path.relative_to(STATIC_ROOT.parent)}")
    return 0
