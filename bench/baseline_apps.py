"""Baselines: what Flask alone costs, with no database, no login, no CSRF, no app templates.

`hello` is a bare Flask app (gunicorn serves it as `bench.baseline_apps:hello`);
`plain_rows_app` renders secret rows like the Secrets panel's, from a list in memory.
"""

from collections import namedtuple
from pathlib import Path
from secrets import token_urlsafe

from flask import Flask, render_template
from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader

from pyspace.secrets.timing import ago

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

hello = Flask(__name__)


@hello.get("/")
def say_hello():
    """The smallest useful Flask view."""
    return "Hello, world!"


# The Secrets panel's list without the app around it: the panel's own row macro
# (templates/secrets/_secret_row.html, loaded from the file itself), the same one-url_for-per-panel
# URL prefix and the same "Show more" control, so the list markup is byte-for-byte the panel's
# (bench/pages.py checks that on every run, CSRF token values aside). What it leaves out is what
# the app adds: login, session, CSRF checks, database.
ROWS_TEMPLATE = """{% from "secrets/_secret_row.html" import secret_row %}
{% from "secrets/_more.html" import more_rows %}
{% set base = url_for("panel", widget_id=widget_id) %}
<section class="secrets-panel"><h2>Secrets</h2>
<form method="post" action="{{ base }}"><button type="submit">Create Secret</button>
<span class="secret-count muted small">{{ "{:,}".format(total) }} secrets</span></form>
<ul class="secret-list">
{% for secret in secrets %}{{ secret_row(secret, base) }}
{% endfor %}
{%- if more %}{{ more_rows(more, base) }}{% endif %}
</ul></section>"""

# A row as the panel gets it from the database: attribute access, like SQLAlchemy's Row.
PlainRow = namedtuple(
    "PlainRow",
    "id name description required write_only value_changed_at last_viewed_at last_used_at is_blank",
)
PlainMore = namedtuple("PlainMore", "after before count")


def plain_rows_app(rows: list[PlainRow], total: int) -> Flask:
    """A Flask app whose one view renders `rows` (held in memory) as the Secrets panel's list,
    with the panel's "Show more" control when `total` is more than the rows shown."""
    app = Flask(__name__)
    app.jinja_env.loader = ChoiceLoader(
        [DictLoader({"rows.html": ROWS_TEMPLATE}), FileSystemLoader(TEMPLATES)]
    )
    app.jinja_env.globals["ago"] = ago
    # View value is a form with its CSRF token: a stand-in of the same length, made once.
    stand_in = token_urlsafe(68)
    app.jinja_env.globals["csrf_token"] = lambda: stand_in
    more = PlainMore(rows[-1].id, None, total - len(rows)) if rows and total > len(rows) else None

    # The panel's own path, so every URL in the list comes out the same.
    @app.get("/widgets/<widget_id>/secrets")
    def panel(widget_id: str):
        return render_template(
            "rows.html", widget_id=widget_id, secrets=rows, total=total, more=more
        )

    return app
