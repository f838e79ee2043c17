"""Baselines: what Flask alone costs, with no database, no login, no CSRF, no app templates.

`hello` is a bare Flask app (gunicorn serves it as `bench.baseline_apps:hello`);
`plain_rows_app` renders secret rows like the Secrets panel's, from a list in memory.
"""
from flask import Flask, render_template, url_for
from jinja2 import DictLoader

hello = Flask(__name__)


@hello.get("/")
def say_hello():
    """The smallest useful Flask view."""
    return "Hello, world!"


# The Secrets panel's row markup (templates/secrets/_row.html) without the app around it:
# the same elements, attributes and url_for calls per row.
ROWS_TEMPLATE = """<section class="secrets-panel"><h2>Secrets</h2>
<form method="post" action="{{ url_for('create') }}"><button type="submit">Create Secret</button></form>
<ul class="secret-list">{% for secret in secrets %}
<li id="secret-{{ secret.id }}" class="secret-row"><div class="secret-head">
<a class="secret-name" href="{{ url_for('edit_row', secret_id=secret.id, mode='name') }}"
   hx-get="{{ url_for('edit_row', secret_id=secret.id, mode='name') }}" hx-target="closest li" hx-swap="outerHTML">{{ secret.name }}</a>
{% if secret.blank %}<span class="badge badge-blank">blank</span>{% else %}<span class="badge badge-set">set</span>{% endif %}
{% if secret.required %}<span class="badge badge-required">required</span>{% endif %}</div>
{% if secret.description %}<p class="secret-description small">{{ secret.description }}</p>{% endif %}
<div class="secret-actions">
<a href="{{ url_for('edit_row', secret_id=secret.id, mode='value') }}" hx-get="{{ url_for('edit_row', secret_id=secret.id, mode='value') }}"
   hx-target="closest li" hx-swap="outerHTML" role="button" class="small secondary outline">Set value</a>
<a href="{{ url_for('row', secret_id=secret.id) }}" hx-get="{{ url_for('row', secret_id=secret.id) }}"
   hx-target="closest li" hx-swap="outerHTML" role="button" class="small secondary outline">View value</a>
<a href="{{ url_for('edit_row', secret_id=secret.id, mode='details') }}" hx-get="{{ url_for('edit_row', secret_id=secret.id, mode='details') }}"
   hx-target="closest li" hx-swap="outerHTML" role="button" class="small secondary outline">Details</a>
<a href="{{ url_for('row', secret_id=secret.id) }}" hx-post="{{ url_for('row', secret_id=secret.id) }}"
   hx-confirm="Delete the secret {{ secret.name }}? Code that reads it will fail." hx-target="#secrets-panel"
   role="button" class="small secondary outline danger">Delete</a></div>
<p class="secret-times small muted">Changed never · viewed never · used never</p></li>{% endfor %}
</ul></section>"""


def plain_rows_app(rows: list[dict]) -> Flask:
    """A Flask app whose one view renders `rows` (held in memory) as Secrets panel rows."""
    app = Flask(__name__)
    app.jinja_env.loader = DictLoader({"rows.html": ROWS_TEMPLATE})

    @app.get("/secrets")
    def panel():
        return render_template("rows.html", secrets=rows)

    @app.post("/secrets")
    def create():
        return ""

    @app.get("/secrets/<int:secret_id>")
    def row(secret_id: int):
        return url_for("row", secret_id=secret_id)

    @app.get("/secrets/<int:secret_id>/edit/<mode>")
    def edit_row(secret_id: int, mode: str):
        return mode

    return app
