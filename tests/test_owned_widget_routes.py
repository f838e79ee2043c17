"""Every route under /widgets/<widget_id> is its owner's alone, through one place: the blueprint
that serves it loads the owned widget (`load_owned_widget`) before any view runs, so a view
can't forget the check. Only the routes listed below serve other people too. (Who else gets
404 is proved route by route in tests/security/test_routes.py.)"""

import pytest
from flask import url_for

from pyspace.access import load_owned_widget
from pyspace.extensions import db
from pyspace.models import MailMessage, Secret, Widget
from pyspace.secrets import vault
from pyspace.tables import schema
from pyspace.tables.columns import MediaValue
from pyspace.tables.rows import add_row

WIDGET_PREFIX = "/widgets/<widget_id>"

# Routes under /widgets/<widget_id> that serve people other than the widget's owner: each view
# loads the widget with `visible_widget_or_404` (public widgets, or the owner's own).
VISITOR_ENDPOINTS = {
    "widgets.show",  # the widget's page
    "runs.run",  # the Run button on the widget's page
    "gui.frame",  # a GUI widget's browser frame
    "gui.call",  # anvil.server.call from a GUI widget's client code
    "gui.rows",  # client code reading the rows of a table it may see
    "gui.tables",  # client code listing the tables it may see
    "gui.task",  # client code polling a background task it started
    "forks.fork",  # forking a public widget
}


def _blueprint_chain(endpoint: str) -> list[str]:
    """The blueprint of `endpoint` and the blueprints it is nested in (`a.b.view` -> a.b, a):
    Flask runs the URL value preprocessors of all of them."""
    parts = endpoint.split(".")[:-1]
    return [".".join(parts[:depth]) for depth in range(len(parts), 0, -1)]


def _loads_the_owned_widget(app, endpoint: str) -> bool:
    return any(
        preprocessor is load_owned_widget
        for blueprint in _blueprint_chain(endpoint)
        for preprocessor in app.url_value_preprocessors.get(blueprint, ())
    )


def _under_a_widget(rule) -> bool:
    return rule.rule == WIDGET_PREFIX or rule.rule.startswith(WIDGET_PREFIX + "/")


def test_owner_routes_under_a_widget_are_on_blueprints_that_load_the_owned_widget(app):
    unguarded = [
        f"{rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if _under_a_widget(rule)
        and rule.endpoint not in VISITOR_ENDPOINTS
        and not _loads_the_owned_widget(app, rule.endpoint)
    ]
    assert sorted(unguarded) == []


def test_every_listed_visitor_route_exists_under_a_widget(app):
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    for endpoint in VISITOR_ENDPOINTS:
        assert rules[endpoint].startswith(WIDGET_PREFIX), endpoint


@pytest.fixture
def owned(app, alice):
    """URL values naming real things of alice's widget: a secret, a table with a text, a media
    and a link column and one row, and a kept e-mail."""
    widget_id = alice.create_widget("Weather", "gui")
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        secret = Secret(widget_id=widget_id, name="API_KEY", ciphertext=vault.encrypt_value("k"))
        db.session.add(secret)
        mail = MailMessage(
            widget_id=widget_id,
            account_id=widget.owner_id,
            status="kept",
            message_id="<1@example.org>",
            sender="widget@example.org",
            recipients="alice@example.org",
            subject="Forecast",
        )
        db.session.add(mail)
        db.session.commit()
        table = schema.create_table(widget, "cities")
        text = schema.add_column(table, "name", "text")
        media = schema.add_column(table, "photo", "media")
        link = schema.add_column(table, "twin", "link_single", link_table=table)
        row_id = add_row(table, {"name": "Oslo", "photo": MediaValue("image/png", "o.png", b"x")})
        return {
            "widget_id": widget_id,
            "secret_id": secret.id,
            "mode": "name",
            "mail_id": mail.id,
            "table_id": table.id,
            "row_id": row_id,
            # The column each cell route needs: a link picker a link column, a download media.
            "column_id": text.id,
            "pick_links": link.id,
            "download_media": media.id,
        }


@pytest.mark.parametrize("htmx", [False, True], ids=["browser", "htmx"])
def test_the_owner_opens_every_page_under_a_widget(app, alice, owned, htmx):
    """Every GET route that loads the owned widget answers its owner 200: its view reads
    `g.widget`, and every link its template builds (url_for) names a route that exists."""
    headers = {"HX-Request": "true"} if htmx else {}
    opened = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not _loads_the_owned_widget(app, rule.endpoint):
            continue
        view = rule.endpoint.rsplit(".", 1)[-1]
        values = {**owned, "column_id": owned.get(view, owned["column_id"])}
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
        response = alice.client.get(url, headers=headers)
        response.get_data()  # a streamed export runs to its end, inside its own request
        response.close()
        assert response.status_code == 200, (rule.endpoint, response.status_code)
        opened.append(rule.endpoint)
    assert {"widgets.owner.edit", "tables.rows", "mail.owner.show_mail"} <= set(opened)
