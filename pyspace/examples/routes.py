"""Examples views: the gallery for everyone; "Use this example" for logged-in users."""

from flask import abort, flash, render_template, url_for
from flask_login import current_user, login_required

from .. import quotas
from ..extensions import limiter
from ..forms import EmptyForm
from ..htmx import redirect_to
from . import bp
from .catalog import all_examples, example_by_slug
from .setup import use_example


def _user_key() -> str:
    return f"example-user:{current_user.get_id()}"


@bp.get("/examples")
def gallery():
    """Starter widgets to copy: what each teaches and what it sets up."""
    return render_template("examples/gallery.html", examples=all_examples(), form=EmptyForm())


@bp.post("/examples/<slug>/use")
@login_required
# Each use is a widget with its secrets and tables: a generous limit stops a script filling the DB.
@limiter.limit("30 per minute", key_func=_user_key)
def use(slug: str):
    """Make the user's own private copy of the example and open it in the editor."""
    example = example_by_slug(slug)
    if example is None:
        abort(404)
    EmptyForm()
    code = {name: getattr(example, name) for name in quotas.CODE_FIELDS}
    # The same quotas as creating or forking a widget: how many, code, storage.
    if error := quotas.new_widget_error(current_user.id, quotas.code_bytes(**code)):
        flash(f"Not created: {error}", "error")
        return redirect_to(url_for("examples.gallery"))
    widget = use_example(example, current_user)
    message = f"Created your own “{example.title}”. It is private until you make it public."
    if example.secrets:
        names = ", ".join(secret["name"] for secret in example.secrets)
        message += f" Set its secret{'s' if len(example.secrets) > 1 else ''} ({names}) first."
    flash(message, "success")
    return redirect_to(url_for("widgets.owner.edit", widget_id=widget.id))
