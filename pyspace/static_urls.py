"""`static_url(filename)`: the URL of a file in static/, named by its bytes, built once.

Cached for good: the URL carries `?v=` and a hash of the file's bytes, and a request naming the
file's current bytes is answered `immutable` for a year. Without it, Flask answers static files
`no-cache`, and every page view sent the server one conditional request per stylesheet and
script on it (16 on a GUI widget's page) before the page could run. A new release changes the
bytes, so the URL: no visitor keeps a stale file. A URL with another version (a page from
before an upgrade) or none still works, answered `no-cache` as before.

Built once: a page links 8 to 20 stylesheets and scripts, and `url_for("static", filename=…)`
builds each through the URL map on every request: about a third of the CPU of rendering the
bare page layout (base.html). A static file's URL depends only on where the site is mounted
(`request.script_root`), the static folder, the file's name and bytes, never on the visitor or
the request's values, so each is built once with `url_for` and remembered for the app's life.
The names are the templates' own literals: a bounded set. An upgrade replaces the files and
restarts the server.
"""

import hashlib
from functools import cache, lru_cache
from pathlib import Path

from flask import Flask, Response, current_app, request, url_for
from werkzeug.security import safe_join

VERSION_PARAMETER = "v"  # as static_url builds it
IMMUTABLE = "public, max-age=31536000, immutable"


def content_version(content: bytes) -> str:
    """A name for these exact bytes, for a URL that changes when they do."""
    return hashlib.sha256(content).hexdigest()[:20]


@cache
def _version_of(path: str) -> str | None:
    try:
        return content_version(Path(path).read_bytes())
    except OSError:  # no such file: its URL is left unversioned, and answers 404
        return None


def file_version(filename: str) -> str | None:
    """The version of static/`filename`: a hash of its bytes, read once. None if it's missing."""
    static_folder = current_app.static_folder
    assert static_folder is not None  # create_app serves static/
    path = safe_join(static_folder, filename)
    return None if path is None else _version_of(path)


@lru_cache(maxsize=512)
def _built(static_folder: str, script_root: str, filename: str, versioned: bool) -> str:
    # url_for leaves out a None: an unversioned URL.
    return url_for("static", filename=filename, v=file_version(filename) if versioned else None)


def static_url(filename: str, versioned: bool = True) -> str:
    """The URL of static/`filename`, named by its bytes (`versioned=False`: by its name alone,
    for a module that other modules import by its plain name)."""
    static_folder = current_app.static_folder
    assert static_folder is not None
    return _built(static_folder, request.script_root, filename, versioned)


def cache_versioned_static_file(response: Response) -> Response:
    """A static file asked for by its current version never changes: cached for good."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    version = request.args.get(VERSION_PARAMETER)
    filename = (request.view_args or {}).get("filename")
    if version is not None and filename and version == file_version(filename):
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def register(app: Flask) -> None:
    """Give the app's templates `static_url(filename)`, and cache what it names for good."""
    app.add_template_global(static_url)
    app.after_request(cache_versioned_static_file)
