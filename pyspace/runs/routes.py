"""Run views: run a widget's server code and show what it printed — never its secrets."""

from flask import current_app, jsonify, render_template, request
from flask_login import current_user

from .. import extraction
from ..access import visible_widget_or_404
from ..editor_form import editor_form, module_errors, save_edits
from ..extensions import limiter
from ..htmx import is_htmx, respond
from ..sandbox.results import REFUSAL_STATUS, failed
from . import bp
from .execution import run_and_record


def _anonymous_rate_limit() -> str:
    return current_app.config["RUN_ANONYMOUS_RATE_LIMIT"]


def _account_rate_limit() -> str:
    return current_app.config["RUN_USER_RATE_LIMIT"]


def _account_key() -> str:
    """Logged-in runs are counted per account, wherever they come from."""
    return f"account:{current_user.id}"


def _wants_json() -> bool:
    return (
        request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
    )


def _save_from_editor(widget) -> tuple[bool, list[str]]:
    """Save the editor's form (exactly as Save does) when the owner sent it with the run.

    Returns (saved, errors): (False, []) when there was nothing to save — a run of the saved
    code, as on the public page — and (False, messages) when the form is invalid.
    """
    # The public page's Run (and a JSON client) sends no code: run the saved one, without
    # building the editor's form for nothing.
    if not widget.is_owned_by(current_user) or "server_code" not in request.form:
        return False, []
    form = editor_form(widget)
    if not form.validate():
        return False, [
            f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items()
        ]
    if errors := module_errors(widget, form):
        return False, errors
    save_edits(widget, form)
    return True, []


@bp.post("/widgets/<widget_id>/run")
@limiter.limit(
    _anonymous_rate_limit,
    exempt_when=lambda: current_user.is_authenticated,
    error_message="Too many runs from your address. Log in, or wait a minute.",
)
@limiter.limit(
    _account_rate_limit,
    key_func=_account_key,
    exempt_when=lambda: not current_user.is_authenticated,
    error_message="Too many runs from your account in a short time. Wait a minute.",
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
    caller = extraction.caller_key(actor_id)
    refused = extraction.refusal(widget, caller, actor_id)
    if refused:
        result, status = failed("TooManyHiddenResults", refused), 429
    else:
        # Recorded in the run history; with RUNS_ON=queue a worker runs it.
        result = run_and_record(widget, actor_id)
        status = REFUSAL_STATUS.get(result.error["type"], 200) if result.error else 200
        if result.withheld_from_run():
            extraction.count_withheld(widget, caller, actor_id)
    if _wants_json():
        return jsonify(result.as_json()), status
    if not is_htmx():
        return render_template("runs/page.html", widget=widget, result=result, saved=saved), status
    # The fragment carries even a refusal (with a 200, so htmx swaps it in), so it shows where
    # the person is looking. editor.js listens for widget-saved to clear "Unsaved changes".
    context = {"widget": widget, "result": result, "saved": saved}
    return respond(
        "runs/_result.html", None, context, events={"widget-saved": True} if saved else None
    )
