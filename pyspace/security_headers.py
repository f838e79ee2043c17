"""Security headers on every response of the main site.

The GUI widget frame (`gui.frame`) sets a stricter Content-Security-Policy of its own
(pyspace/gui/frame_policy.py) with `frame-ancestors` naming the site: responses that already
carry a CSP keep it, and get no X-Frame-Options, so the site can still embed the frame.
"""

from flask import Flask, Response

# The main site loads everything from itself: htmx, CodeMirror, Pico and small scripts in static/.
# - no inline scripts and no on…= attributes, so an escaping bug can't become script execution;
# - no 'unsafe-eval': htmx runs with allowEval off (no trigger filters, hx-on or js: values);
# - 'unsafe-inline' styles: htmx inserts its indicator <style> and CodeMirror sizes elements;
#   styles can't run code;
# - data: images: Pico draws checkboxes and select arrows as data: SVGs;
# - frame-src 'self': GUI widgets live in a sandboxed iframe served by this site;
# - frame-ancestors 'none': no other page (this site included) may frame the site's pages.
MAIN_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Widget URLs (private ones included) are not sent to the sites that widgets link to.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Add the site's security headers, keeping a CSP (and framing rule) a view set itself."""
    present = {name.lower() for name, _ in response.headers}
    # Added in one go: Werkzeug's headers look each name up again on every setdefault.
    response.headers.extend(
        [(name, value) for name, value in HEADERS.items() if name.lower() not in present]
    )
    if "content-security-policy" not in present:
        response.headers.extend(
            [
                ("Content-Security-Policy", MAIN_CONTENT_SECURITY_POLICY),
                ("X-Frame-Options", "DENY"),
            ]
        )
    return response


def no_store(response: Response) -> Response:
    """`Cache-Control: no-store`: the after-request hook of the blueprints whose every answer is
    one owner's alone (`bp.after_request(no_store)`), so no shared cache or back button keeps
    any."""
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """Send the security headers with every response (and HSTS once the site is on HTTPS)."""
    app.after_request(add_security_headers)
    if app.config.get("SESSION_COOKIE_SECURE"):
        # Secure cookies mean the operator serves the site over HTTPS: browsers should never
        # try plain HTTP again, where a network attacker could strip TLS.
        @app.after_request
        def require_https(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            return response
