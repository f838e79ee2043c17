"""Run views: run a widget's server code and show what it printed — never its secrets."""

from flask import current_app, jsonify, render_template, request
from flask_login import current_user

from ..access import visible_widget_or_404
from ..extensions import limiter
from ..htmx import is_htmx, trigger
from ..tasks.execution import run_and_record
from ..widgets.forms import EditWidgetForm, save_edits
from . import bp

# Outcomes that are the server's problem, not the code's: answered with 503.
UNAVAILABLE = ("SandboxUnavailable", "ServerBusy")


def _anonymous_rate_limit() -> str:
    return current_app.config.get("RUN_ANONYMOUS_RATE_LIMIT", "10 per minute")


def _wants_json() -> bool:
    return (
        request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
    )


def _save_from_editor(widget) -> tuple[bool, list[str]]:
    """Save the editor's form (exactly as Save does) when the owner sent it with the run.

    Returns (saved, errors): (False, []) when there was nothing to save — a run of the saved
    code, as on the public page — and (False, messages) when the form is invalid.
    """
    if not widget.is_owned_by(current_user) or "server_code" not in request.form:
        return False, []
    form = EditWidgetForm(obj=widget)
    if not form.validate():
        return False, [
            f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items()
        ]
    save_edits(widget, form)
    return True, []


@bp.post("/widgets/<widget_id>/run")
@limiter.limit(
    _anonymous_rate_limit,
    exempt_when=lambda: current_user.is_authenticated,
    error_message="Too many runs from your address. Log in, or wait a minute.",
)
def run(widget_id: str):
    """Run the widget's server code (the owner's editor saves it first) and show the result.

    htmx gets the result fragment, `Accept: application/json` gets
    {ok, stdout, stderr, error, duration_ms}, and a plain form post gets a page.
    """
    widget = visible_widget_or_404(widget_id)
    saved, save_errors = _save_from_editor(widget)
    if save_errors:
        if _wants_json():
            return jsonify(
                {
                    "ok": False,
                    "stdout": "",
                    "stderr": "",
                    "duration_ms": 0,
                    "error": {"type": "NotSaved", "message": " ".join(save_errors)},
                }
            ), 422
        return render_template(
            "runs/_result.html", widget=widget, result=None, save_errors=save_errors
        ), 422
    actor_id = current_user.id if current_user.is_authenticated else None
    # Recorded in the run history; with RUNS_ON=queue a worker runs it.
    result = run_and_record(widget, actor_id)
    status = 503 if result.error and result.error["type"] in UNAVAILABLE else 200
    if _wants_json():
        return jsonify(result.as_json()), status
    if not is_htmx():
        return render_template("runs/page.html", widget=widget, result=result, saved=saved), status
    # The fragment carries even a refusal, so it shows where the person is looking.
    response = current_app.make_response(
        render_template("runs/_result.html", widget=widget, result=result, saved=saved)
    )
    if saved:
        # editor.js listens for this to clear "Unsaved changes".
        trigger(response, **{"widget-saved": True})
    return response
