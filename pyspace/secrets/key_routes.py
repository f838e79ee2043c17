"""Encryption-key views of the Secrets panel (owner only; 404 to everyone else).

A key is a row of the panel like a secret: it is renamed, described and deleted through the
secrets' own routes (`routes.py`). Only what a secret doesn't have lives here: Create Key, and
Generate key for a key without key material (a fork's). Nobody ever sees a key's bytes, so there
is nothing to view, set or export.
"""

from flask import abort, g
from flask_login import current_user

from ..errors import render_error
from ..forms import EmptyForm
from ..htmx import is_htmx
from . import bp
from .changes import SecretChangeError, create_key, generate_key, secret_of
from .panel import back_to_panel, changed_events, render_panel, render_row


@bp.post("/keys", endpoint="create_key")
def create_key_view():
    """Create Key: a new encryption key named new_key_N, generated here, ready to be renamed."""
    widget = g.widget
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        key = create_key(widget, current_user.id)
    except SecretChangeError as error:
        return render_error(503, str(error))
    if not is_htmx():
        return back_to_panel(widget, key)
    return render_panel(
        widget, focus_id=key.id, events=changed_events(f"Created the key {key.name}.")
    )


@bp.post("/<int:secret_id>/generate", endpoint="generate_key")
def generate_key_view(secret_id: int):
    """Generate key: new key material for a key that has none (a fork gets names only)."""
    widget = g.widget
    key = secret_of(widget, secret_id)
    if key is None or not key.is_key:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        generate_key(key, current_user.id)
    except SecretChangeError as error:
        return render_row(widget, key, 422, error=str(error))
    if not is_htmx():
        return back_to_panel(widget, key)
    return render_row(widget, key, events=changed_events(f"Generated a new key for {key.name}."))
