"""`static_url(filename)` for templates: the URL of a file in static/, built once.

A page links 8 to 20 stylesheets and scripts, and `url_for("static", filename=…)` builds each
through the URL map on every request: about a third of the CPU of rendering the bare page
layout (base.html). A static file's URL depends only on where the site is mounted
(`request.script_root`) and the file's name, never on the visitor or the request's values, so
each (mount point, name) pair is built once with `url_for` and remembered for the app's life.
The names are the templates' own literals: a bounded set.
"""

from functools import lru_cache

from flask import Flask, request, url_for


def register(app: Flask) -> None:
    """Give the app's templates `static_url(filename)`, the cached `url_for("static", …)`."""

    @lru_cache(maxsize=512)
    def built(script_root: str, filename: str) -> str:
        return url_for("static", filename=filename)

    def static_url(filename: str) -> str:
        return built(request.script_root, filename)

    app.add_template_global(static_url)
