"""The Content-Security-Policy of a GUI widget's frame document.

The widget's HTML and client code are written by its author and run in every viewer's browser,
so the frame gets the least it needs to boot Python and call its own server functions:

- `sandbox allow-scripts` puts the document in an opaque origin even when someone opens the
  frame URL directly (not only inside `<iframe sandbox>`): it can't read the site's cookies,
  storage or pages, submit forms, open popups or navigate the page that embeds it;
- scripts and network requests are limited, by path, to the frame's own script, the vendored
  Pyodide and MicroPython, the client runtime and this widget's call route — so the frame
  can't even send a request to another page of the site, and nothing can be sent to, or loaded
  from, elsewhere;
- `'wasm-unsafe-eval'` lets WebAssembly compile (both Pythons are WebAssembly), while JavaScript's
  eval, inline scripts and event-handler attributes stay blocked;
- only the site's own pages may embed it (`frame-ancestors`).
"""

FRAME_SCRIPT = "/static/js/gui-frame.js"
PYODIDE_DIR = "/static/vendor/pyodide/"
MICROPYTHON_DIR = "/static/vendor/micropython/"
CLIENT_RUNTIME_DIR = "/static/gui-runtime/"
STYLESHEETS = ("/static/vendor/pico/pico.min.css", "/static/css/gui-frame.css")

# Files the opaque-origin frame fetches in CORS mode (module scripts, fetch()): they must say
# `Access-Control-Allow-Origin: *`. All are public, cookie-free static files.
CROSS_ORIGIN_STATIC_PREFIXES = (FRAME_SCRIPT, PYODIDE_DIR, MICROPYTHON_DIR, CLIENT_RUNTIME_DIR)


def call_route_prefix(widget_id: str) -> str:
    """The path under which the frame of `widget_id` may call its server functions."""
    return f"/widgets/{widget_id}/call/"


def frame_content_security_policy(site_origin: str, widget_id: str) -> str:
    """The CSP header value for the frame of `widget_id`, served from `site_origin`.

    Sources are absolute URLs with paths because `'self'` means nothing useful to an opaque
    origin, and because paths narrow what the frame may load to the few files it needs.
    """
    site = site_origin.rstrip("/")
    directives = {
        "default-src": ["'none'"],
        "script-src": [
            site + FRAME_SCRIPT,
            site + PYODIDE_DIR,
            site + MICROPYTHON_DIR,
            "'wasm-unsafe-eval'",
        ],
        "connect-src": [
            site + PYODIDE_DIR,
            site + MICROPYTHON_DIR,
            site + CLIENT_RUNTIME_DIR,
            site + call_route_prefix(widget_id),
        ],
        # Inline styles can't run code, and widget authors style their HTML with them.
        "style-src": [site + path for path in STYLESHEETS] + ["'unsafe-inline'"],
        "img-src": ["data:", "blob:"],
        "media-src": ["data:", "blob:"],
        "form-action": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": [site],
        # Downloads of Media client code offers (anvil.media.download); nothing else.
        "sandbox": ["allow-scripts", "allow-downloads"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
