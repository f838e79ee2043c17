"""Baselines: what Flask alone costs, with no database, no login, no CSRF, no app templates.

`hello` is a bare Flask app (gunicorn serves it as `bench.baseline_apps:hello`);
`plain_rows_app` renders secret rows like the Secrets panel's, from a list in memory.
"""
from collections import namedtuple

from flask import Flask, render_template
from jinja2 import DictLoader

from pyspace.secrets.timing import ago

hello = Flask(__name__)


@hello.get("/")
def say_hello():
    """The smallest useful Flask view."""
    return "Hello, world!"


# The Secrets panel's list (templates/secrets/_secret_row.html and _more.html) without the app
# around it: the same elements and attributes, the same one-url_for-per-panel URL prefix and the
# same `ago` calls per row, so the list markup is byte-for-byte the panel's (bench/pages.py checks
# that on every run). What it leaves out is what the app adds: login, session, CSRF, database.
ROWS_TEMPLATE = """{% macro secret_row(secret, base) -%}
{%- set url = base ~ "/" ~ secret.id -%}
<li id="secret-{{ secret.id }}" class="secret-row" hx-target="this" hx-swap="outerHTML">
  <div class="secret-head">
    <a class="secret-name" href="{{ url }}/edit/name" hx-get="{{ url }}/edit/name" title="Click to rename">{{ secret.name }}</a>
    {% if secret.is_blank %}<span class="badge badge-blank">blank</span>{% else %}<span class="badge badge-set">set</span>{% endif %}
    {%- if secret.required %} <span class="badge badge-required">required</span>{% endif %}
    {%- if secret.write_only %} <span class="badge badge-write-only" title="Its value can be replaced but never viewed">write-only</span>{% endif %}
  </div>
  {%- if secret.description %}
  <p class="secret-description small">{{ secret.description }}</p>
  {%- endif %}
  <div class="secret-actions">
    <a href="{{ url }}/edit/value" hx-get="{{ url }}/edit/value" role="button" class="small secondary outline">Set value</a>
    {%- if not secret.write_only %}
    <a href="{{ url }}/value" hx-get="{{ url }}/value" role="button" class="small secondary outline">View value</a>
    {%- endif %}
    <a href="{{ url }}/edit/details" hx-get="{{ url }}/edit/details" role="button" class="small secondary outline">Details</a>
    <a href="{{ url }}/delete" hx-post="{{ url }}/delete" hx-target="#secrets-panel" hx-swap="innerHTML"
       hx-confirm="Delete the secret {{ secret.name }}? Code that reads it will fail." role="button" class="small secondary outline danger">Delete</a>
  </div>
  <p class="secret-times small muted">Changed {{ ago(secret.value_changed_at) }} · viewed {{ ago(secret.last_viewed_at) }} · used {{ ago(secret.last_used_at) }}</p>
</li>
{%- endmacro %}
{% set base = url_for("panel", widget_id=widget_id) %}
<section class="secrets-panel"><h2>Secrets</h2>
<form method="post" action="{{ base }}"><button type="submit">Create Secret</button>
<span class="secret-count muted small">{{ "{:,}".format(total) }} secrets</span></form>
<ul class="secret-list">
{% for secret in secrets %}{{ secret_row(secret, base) }}
{% endfor %}
{%- if more %}<li class="secret-more">
  <a href="{{ base }}/more?after={{ more.after }}"
     hx-get="{{ base }}/more?after={{ more.after }}"
     hx-target="closest li" hx-swap="outerHTML" role="button" class="small secondary outline">Show more</a>
  <span class="muted small">{{ "{:,}".format(more.count) }} more {{ "secret" if more.count == 1 else "secrets" }}</span>
</li>{% endif %}
</ul></section>"""

# A row as the panel gets it from the database: attribute access, like SQLAlchemy's Row.
PlainRow = namedtuple("PlainRow", "id name description required write_only value_changed_at "
                                  "last_viewed_at last_used_at is_blank")
PlainMore = namedtuple("PlainMore", "after count")


def plain_rows_app(rows: list[PlainRow], total: int) -> Flask:
    """A Flask app whose one view renders `rows` (held in memory) as the Secrets panel's list,
    with the panel's "Show more" control when `total` is more than the rows shown."""
    app = Flask(__name__)
    app.jinja_env.loader = DictLoader({"rows.html": ROWS_TEMPLATE})
    app.jinja_env.globals["ago"] = ago
    more = PlainMore(rows[-1].id, total - len(rows)) if rows and total > len(rows) else None

    # The panel's own path, so every URL in the list comes out the same.
    @app.get("/widgets/<widget_id>/secrets")
    def panel(widget_id: str):
        return render_template("rows.html", widget_id=widget_id, secrets=rows, total=total, more=more)

    return app
