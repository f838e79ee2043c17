"""Error pages in the site's style, and fragments for htmx requests."""

from flask import Flask, current_app, jsonify, make_response, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .counters import DATABASE_BUSY
from .database import is_database_busy
from .extensions import db
from .htmx import respond

# How long a client is asked to wait after a write found the database busy.
BUSY_RETRY_AFTER_SECONDS = 2

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You can't do that."),
    404: ("Not found", "There is nothing here, or it isn't yours to see."),
    405: ("Not allowed", "That action isn't available here."),
    413: ("Too large", "What you sent is larger than the site accepts."),
    415: ("Unsupported", "Send this as the page's form, not in another format."),
    429: ("Slow down", "Too many requests. Please wait a moment and try again."),
    500: ("Something went wrong", "The error has been logged. Please try again."),
    503: ("Service unavailable", "The site is busy right now. Please try again in a moment."),
}


def _wants_json() -> bool:
    # A JSON request (a GUI call) or a client that asks for JSON gets its error as JSON too.
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.is_json or best == "application/json"


def render_error(status: int, message: str | None = None):
    """The error page for `status` — for htmx, a fragment that the error toast shows; for a
    JSON request, `{"ok": false, "error": {"type", "message"}}`."""
    title, default_message = MESSAGES.get(status, MESSAGES[500])
    if _wants_json():
        error = {"type": title, "message": message or default_message}
        return jsonify({"ok": False, "error": error}), status
    context = {"status": status, "title": title, "message": message or default_message}
    return respond("errors/_message.html", "errors/page.html", context, status)


def register(app: Flask) -> None:
    """Answer every error the app can raise with a page in the site's style."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        """A missing or stale CSRF token: the change was refused, say how to retry."""
        return render_error(
            400, "Your session expired or the form was stale. Reload the page and try again."
        )

    @app.errorhandler(429)
    def rate_limited(error):
        """Too many requests: say which limit, when the limit has a message of its own."""
        # Flask-Limiter's own message says which limit was hit ("Too many failed log-ins…").
        limit = getattr(error, "limit", None)
        return render_error(429, error.description if limit and limit.error_message else None)

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        """A write that could not get the database in time (another write held it past the
        busy or lock timeout): 503 with Retry-After, nothing changed. Any other database
        error is a fault like any other (500)."""
        db.session.rollback()
        if not is_database_busy(error):
            raise error
        DATABASE_BUSY.labels("request").inc()
        current_app.logger.warning(
            "database busy: answered 503 to %s %s", request.method, request.path
        )
        response = make_response(
            render_error(
                503,
                "The site is busy saving other changes. Nothing was changed: "
                "try again in a moment.",
            )
        )
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(500)
    def server_error(error):
        """An unexpected error: undo the half-done transaction, show no internals."""
        db.session.rollback()
        return render_error(500)

    for status in (400, 403, 404, 405, 413, 415):
        app.register_error_handler(status, lambda error, status=status: _http_error(status, error))


def _http_error(status: int, error: HTTPException):
    # A view's own `abort(400, "why")` is shown; Werkzeug's generic descriptions are not.
    custom = error.description != type(error).description
    return render_error(status, error.description if custom else None)
