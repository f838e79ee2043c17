"""Every route in `app.url_map`, checked against one table of who may use it.

A new route fails `test_every_route_declares_who_may_use_it` until it is added to ROUTES, so
nobody can add a state-changing route without deciding its access rule; every state-changing
route is then proved to refuse a request without a CSRF token (form, htmx header, wrong token)
and to change nothing, and every owner-only route to answer 404 — never 403 or a hint — to
other users and anonymous visitors, for public and private widgets alike.
"""

import re

import pytest
from flask import url_for
from flask_wtf.csrf import CSRFProtect

from pyspace.extensions import csrf, db
from pyspace.gui.frame_boot import client_runtime
from pyspace.models import (
    Classroom,
    ClassroomMember,
    DataColumn,
    DataRow,
    DataTable,
    Secret,
    User,
    Widget,
)
from pyspace.secrets import vault
from pyspace.tables import schema
from pyspace.tables.rows import add_row

PUBLIC = "public"  # anyone
LOGIN = "login"  # any logged-in user; anonymous visitors are sent to log in
VISIBLE = "visible"  # public widgets for anyone, private ones for their owner only
OWNER = "owner"  # the widget's owner only: 404 to everyone else
ADMIN = "admin"  # admins only: 404 to everyone else
TEACHER = "teacher"  # the class's teacher only (teachers and admins for the list): 404 to others
CALL_TOKEN = "call-token"  # no cookie authority: a signed per-widget token (CSRF-exempt)
# A widget's HTTP endpoint: anonymous unless it asks for HTTP Basic, never cookie-authenticated,
# so CSRF-exempt; a private widget's answers 404 (tests/endpoints).
HTTP_API = "http-api"
# Loopback or the metrics token only: 404 to any other address (tests/operations).
LOOPBACK = "loopback"

ROUTES = {
    "static": PUBLIC,
    # The client `anvil` runtime's public files, in one document for pages with GUI frames.
    "gui.client_runtime_bundle": PUBLIC,
    "widgets.home": PUBLIC,
    "widgets.user_page": PUBLIC,
    "auth.login": PUBLIC,
    "auth.register": PUBLIC,
    "auth.logout": LOGIN,
    "auth.account": LOGIN,
    "auth.change_password": LOGIN,
    "auth.logout_everywhere": LOGIN,
    "auth.change_email": LOGIN,
    "auth.forgot_password": PUBLIC,
    # The signed reset link is its own authority: it works once, then its fingerprint is spent.
    "auth.reset_password": PUBLIC,
    # The signed confirmation link is its own authority too: spent once the address is confirmed.
    "auth.confirm_email": PUBLIC,
    "auth.resend_confirmation": LOGIN,
    "admin.set_user_email": ADMIN,
    "widgets.new": LOGIN,
    "examples.gallery": PUBLIC,
    "examples.use": LOGIN,
    "widgets.show": VISIBLE,
    "gui.frame": VISIBLE,
    "runs.run": VISIBLE,
    "forks.fork": VISIBLE,
    "gui.call": CALL_TOKEN,
    "gui.rows": CALL_TOKEN,
    "gui.task": CALL_TOKEN,
    "gui.tables": CALL_TOKEN,
    "endpoints.api": HTTP_API,
    "endpoints.owner.endpoints_panel": OWNER,
    "mail.owner.outbox_panel": OWNER,
    "mail.owner.switch_alerts": OWNER,
    "mail.owner.show_mail": OWNER,
    "mail.site_outbox": ADMIN,
    "mail.show_site_mail": ADMIN,
    "operations.healthz": PUBLIC,
    "operations.metrics": LOOPBACK,
    "operations.admin_status": ADMIN,
    "tables.auto_columns": OWNER,
    "tables.users_signup": OWNER,
    "tables.users_confirmed": OWNER,
    "tables.users_anonymous_calls": OWNER,
    "tables.client_access": OWNER,
    "tables.import_status": OWNER,
    "widgets.owner.add_module": OWNER,
    "widgets.owner.rename_module": OWNER,
    "widgets.owner.delete_module": OWNER,
    "appimport.import_app": LOGIN,
    "appimport.owner.report": OWNER,
    "appimport.owner.export": OWNER,
    "widgets.owner.edit": OWNER,
    "widgets.owner.delete": OWNER,
    "forks.owner.needs_values": OWNER,
    "secrets.panel": OWNER,
    "secrets.audit_list": OWNER,
    "secrets.more": OWNER,
    "secrets.create": OWNER,
    "secrets.row": OWNER,
    "secrets.edit_row": OWNER,
    "secrets.rename": OWNER,
    "secrets.set_value": OWNER,
    "secrets.reveal": OWNER,
    "secrets.confirm_delete": OWNER,
    "secrets.delete": OWNER,
    "secrets.details": OWNER,
    "secrets.write_only": OWNER,
    "secrets.import_form": OWNER,
    "secrets.import_dotenv": OWNER,
    "secrets.export_example": OWNER,
    "secrets.export_values": OWNER,
    "secrets.move": OWNER,
    "secrets.create_key": OWNER,
    "secrets.generate_key": OWNER,
    "tasks.schedules_panel": OWNER,
    "tasks.create_schedule": OWNER,
    "tasks.run_now": OWNER,
    "tasks.enable": OWNER,
    "tasks.disable": OWNER,
    "tasks.delete": OWNER,
    "tasks.history": OWNER,
    "tables.panel": OWNER,
    "tables.create": OWNER,
    "tables.rename": OWNER,
    "tables.delete": OWNER,
    "tables.rows": OWNER,
    "tables.add_column": OWNER,
    "tables.rename_column": OWNER,
    "tables.delete_column": OWNER,
    "tables.add": OWNER,
    "tables.edit_cell": OWNER,
    "tables.cell": OWNER,
    "tables.save_cell": OWNER,
    "tables.upload_media": OWNER,
    "tables.download_media": OWNER,
    "tables.pick_links": OWNER,
    "tables.save_links": OWNER,
    "tables.delete_row": OWNER,
    "tables.export_csv": OWNER,
    "tables.export_zip": OWNER,
    "tables.import_csv": OWNER,
    "tables.import_zip": OWNER,
    "admin.users": ADMIN,
    "admin.disable_user": ADMIN,
    "admin.enable_user": ADMIN,
    "admin.join_codes": ADMIN,
    "admin.create_code": ADMIN,
    "admin.delete_code": ADMIN,
    "admin.grant_teacher": ADMIN,
    "admin.revoke_teacher": ADMIN,
    "classes.index": TEACHER,
    "classes.create": TEACHER,
    "classes.show": TEACHER,
    "classes.hand_out_widget": TEACHER,
    "classes.pupil": TEACHER,
    "classes.reset_password": TEACHER,
    "classes.disable_pupil": TEACHER,
    "classes.enable_pupil": TEACHER,
    "classes.bulk_form": TEACHER,
    "classes.bulk_create": TEACHER,
    # The one-time link is its own authority: a random token that works once.
    "classes.login_link": PUBLIC,
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Pages whose GET shows a form and whose POST submits it.
FORM_PAGES = {
    "auth.login",
    "auth.register",
    "widgets.new",
    "widgets.owner.edit",
    "classes.login_link",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.confirm_email",
    "appimport.import_app",
}
SECRET_NAME = "weather_api_key"
SECRET_VALUE = "owm-7d1f0c2e9b-never-shown"
TABLE_NAME = "weather_log_private"
ROW_VALUE = "row-value-3f9a-never-shown"
# Realistic form data, so a refusal proves the check and not a missing field.
FORM_DATA = {
    "auth.login": {"username": "alice", "password": "correct horse battery"},
    "auth.register": {"username": "mallory", "password": "correct horse battery"},
    "widgets.new": {"title": "Injected", "kind": "script"},
    "widgets.owner.edit": {
        "title": "Defaced",
        "description": "",
        "visibility": "public",
        "server_code": "print('defaced')",
        "client_code": "",
        "html": "",
    },
    "secrets.rename": {"name": "renamed"},
    "secrets.set_value": {"value": "attacker-value"},
    "secrets.details": {"description": "changed", "required": "y"},
    "secrets.import_dotenv": {"dotenv": "INJECTED=1\n", "step": "apply"},
    "secrets.move": {"move": "server_code:1"},
    "tasks.create_schedule": {"task_name": "refresh", "every": "hour", "n": "1"},
    "auth.change_password": {"current_password": "correct horse battery", "new_password": "x" * 12},
    "admin.create_code": {"note": "7B", "max_uses": "30", "days": "7"},
    "classes.create": {"name": "Class 7B", "max_uses": "30", "days": "7"},
    "classes.login_link": {"new_password": "attacker password"},
    "auth.change_email": {"email": "mallory@example.org"},
    "mail.owner.switch_alerts": {"on": "0"},
    "auth.forgot_password": {"email": "alice@example.org"},
    "auth.reset_password": {"new_password": "attacker password"},
    "admin.set_user_email": {"email": "mallory@example.org"},
    "tables.create": {"name": "injected"},
    "tables.rename": {"name": "renamed"},
    "tables.add_column": {"name": "injected", "type": "text"},
    "tables.rename_column": {"name": "renamed"},
    "tables.save_cell": {"value": "attacker-value"},
    "tables.import_csv": {"csv": "city\nINJECTED\n", "step": "apply"},
}


def _rules(app):
    return list(app.url_map.iter_rules())


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _endpoints_with(app, access: str, state_changing: bool | None = None):
    """(endpoint, method) pairs of `access` routes, as pytest params."""
    found = []
    for rule in _rules(app):
        if ROUTES.get(rule.endpoint) != access:
            continue
        for method in _methods(rule):
            if state_changing is None or (method in STATE_CHANGING) == state_changing:
                found.append((rule.endpoint, method))
    return found


@pytest.fixture
def anonymous(make_client):
    return make_client()


@pytest.fixture
def widgets(app, alice):
    """alice's public and private GUI widgets, each with one secret that has a value and a
    data table with one row."""
    ids = {
        "public": alice.create_widget("Public weather", "gui", visibility="public"),
        "private": alice.create_widget("Private weather", "gui", visibility="private"),
    }
    with app.app_context():
        secrets = {}
        for visibility, widget_id in ids.items():
            secret = Secret(
                widget_id=widget_id, name=SECRET_NAME, ciphertext=vault.encrypt_value(SECRET_VALUE)
            )
            db.session.add(secret)
            db.session.flush()
            secrets[visibility] = secret.id
        db.session.commit()
        for widget_id in ids.values():
            # A data table with a column and a row, so table routes point at real things.
            table = schema.create_table(db.session.get(Widget, widget_id), TABLE_NAME)
            schema.add_column(table, "city", "text")
            add_row(table, {"city": ROW_VALUE})
    return {visibility: (ids[visibility], secrets[visibility]) for visibility in ids}


def _table_ids(app, widget_id: str) -> tuple[int, int, int]:
    """The widget's data table, its column and its row (0 when it has none)."""
    with app.app_context():
        table_id = db.session.scalar(db.select(DataTable.id).filter_by(widget_id=widget_id)) or 0
        column_id = db.session.scalar(db.select(DataColumn.id).filter_by(table_id=table_id)) or 0
        row_id = db.session.scalar(db.select(DataRow.id).filter_by(table_id=table_id)) or 0
    return table_id, column_id, row_id


def _url(
    app, endpoint: str, widget_id: str, secret_id: int, user_id: int, classroom_id: int = 1
) -> str:
    rule = next(rule for rule in _rules(app) if rule.endpoint == endpoint)
    table_id, column_id, row_id = _table_ids(app, widget_id)
    values = {
        "widget_id": widget_id,
        "secret_id": secret_id,
        "schedule_id": 1,
        "mode": "name",
        "fn_name": "greet",
        "user_id": user_id,
        "code_id": 0,
        "username": "alice",
        "filename": "css/app.css",
        "table_id": table_id,
        "column_id": column_id,
        "row_id": row_id,
        "slug": "weather-logger",
        "classroom_id": classroom_id,
        "mail_id": 1,
        "module_id": 1,
        "token": "not-a-token",
    }
    with app.test_request_context():
        values["version"] = client_runtime().version
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


def snapshot(app) -> dict:
    """Every row of every table: equal snapshots mean a request changed nothing."""
    with app.app_context():
        db.session.expire_all()
        return {
            table.name: sorted(map(repr, db.session.execute(table.select()).all()))
            for table in db.metadata.sorted_tables
        }


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(username=username))


# --- The table is complete, and CSRF is on everywhere but the token-authorized call route ----


def test_every_route_declares_who_may_use_it(app):
    endpoints = {rule.endpoint for rule in _rules(app)}
    assert endpoints - ROUTES.keys() == set(), "new route: declare its access rule in ROUTES"
    assert ROUTES.keys() - endpoints == set(), "ROUTES names a route that no longer exists"


def test_csrf_protects_every_state_changing_route_but_the_gui_call(app):
    assert isinstance(csrf, CSRFProtect) and app.extensions["csrf"] is csrf
    assert app.config.get("WTF_CSRF_ENABLED", True) and app.config.get(
        "WTF_CSRF_CHECK_DEFAULT", True
    )
    assert (
        set(app.config.get("WTF_CSRF_METHODS", ["POST", "PUT", "PATCH", "DELETE"]))
        >= STATE_CHANGING
    )
    assert not csrf._exempt_blueprints
    exempt = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views
    }
    assert exempt == {"gui.call", "gui.rows", "gui.task", "gui.tables", "endpoints.api"}
    assert {endpoint for endpoint in exempt if ROUTES[endpoint] not in (CALL_TOKEN, HTTP_API)} == (
        set()
    )
    # A GET renders, a POST changes: only the form pages answer both on one URL (a widget's
    # HTTP endpoint answers the methods its code declares).
    both = {
        rule.endpoint
        for rule in _rules(app)
        if "GET" in rule.methods
        and set(_methods(rule)) & STATE_CHANGING
        and ROUTES.get(rule.endpoint) != HTTP_API
    }
    assert both == FORM_PAGES


@pytest.mark.parametrize("variant", ["form-without-token", "htmx-without-token", "wrong-token"])
def test_state_changing_requests_without_a_valid_csrf_token_change_nothing(
    app, alice, bob, widgets, variant
):
    with app.app_context():
        db.session.execute(db.update(User).filter_by(username="alice").values(is_admin=True))
        db.session.commit()
    victim_id, bob_id = _user_id(app, "alice"), _user_id(app, "bob")
    widget_id, secret_id = widgets["public"]
    checked = []
    for access in (PUBLIC, LOGIN, VISIBLE, OWNER, ADMIN, TEACHER):
        for endpoint, method in _endpoints_with(app, access, state_changing=True):
            url = _url(app, endpoint, widget_id, secret_id, bob_id)
            before = snapshot(app)
            headers = {}
            if variant == "htmx-without-token":
                headers = {"HX-Request": "true"}
            elif variant == "wrong-token":
                headers = {"HX-Request": "true", "X-CSRFToken": "forged-token"}
            response = alice.client.open(
                url, method=method, data=FORM_DATA.get(endpoint, {}), headers=headers
            )
            assert response.status_code == 400, (endpoint, response.status_code)
            assert snapshot(app) == before, f"{endpoint} changed the database without a token"
            checked.append(endpoint)
    # Still logged in: the token-less logout did nothing either.
    with alice.client.session_transaction() as session:
        assert session.get("_user_id", "").split(":")[0] == str(victim_id)
    assert {
        "widgets.owner.delete",
        "secrets.set_value",
        "runs.run",
        "forks.fork",
        "auth.logout",
        "admin.disable_user",
    } <= set(checked)


# --- Owner-only, admin-only and visible-only routes ------------------------------------------


def _visitor(request, who):
    return request.getfixturevalue(who)


@pytest.mark.parametrize("htmx", [False, True], ids=["browser", "htmx"])
@pytest.mark.parametrize("visibility", ["public", "private"])
@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_owner_only_routes_are_404_to_everyone_else_and_change_nothing(
    app, widgets, request, who, visibility, htmx
):
    visitor = _visitor(request, who)
    headers = {"HX-Request": "true"} if htmx else {}
    widget_id, secret_id = widgets[visibility]
    checked = 0
    for endpoint, method in _endpoints_with(app, OWNER):
        url = _url(app, endpoint, widget_id, secret_id, 0)
        before = snapshot(app)
        if method in STATE_CHANGING:
            if who == "anonymous":
                # An anonymous visitor's own valid token, from the login page.
                response = visitor.client.open(
                    url,
                    method=method,
                    headers=headers,
                    data={**FORM_DATA.get(endpoint, {}), "csrf_token": visitor.csrf_token()},
                )
            else:
                response = visitor.post(url, FORM_DATA.get(endpoint, {}), htmx=htmx)
        else:
            response = visitor.client.open(url, method=method, headers=headers)
        body = response.get_data(as_text=True)
        if who == "anonymous" and response.status_code == 302:
            assert response.headers["Location"].startswith("/login"), endpoint
        else:
            assert response.status_code == 404, (endpoint, method, response.status_code)
        assert SECRET_NAME not in body and SECRET_VALUE not in body, endpoint
        assert TABLE_NAME not in body and ROW_VALUE not in body, endpoint
        assert snapshot(app) == before, f"{method} {endpoint} changed something for {who}"
        checked += 1
    assert checked >= 21


@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_routes_for_visible_widgets_are_404_on_a_private_widget_of_someone_else(
    app, widgets, request, who
):
    visitor = _visitor(request, who)
    widget_id, secret_id = widgets["private"]
    endpoints = _endpoints_with(app, VISIBLE)
    assert {endpoint for endpoint, _ in endpoints} == {
        "widgets.show",
        "gui.frame",
        "runs.run",
        "forks.fork",
    }
    for endpoint, method in endpoints:
        url = _url(app, endpoint, widget_id, secret_id, 0)
        before = snapshot(app)
        data = {"csrf_token": visitor.csrf_token()} if method in STATE_CHANGING else None
        response = visitor.client.open(url, method=method, data=data)
        assert response.status_code == 404, (endpoint, response.status_code)
        assert "Private weather" not in response.get_data(as_text=True)
        assert snapshot(app) == before


@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_admin_routes_are_404_to_everyone_but_admins(app, alice, bob, anonymous, who):
    visitor = {"bob": bob, "anonymous": anonymous}[who]
    alice_id = _user_id(app, "alice")
    for endpoint, method in _endpoints_with(app, ADMIN):
        url = _url(app, endpoint, "-", 0, alice_id)
        before = snapshot(app)
        data = {"csrf_token": visitor.csrf_token()} if method in STATE_CHANGING else None
        response = visitor.client.open(url, method=method, data=data)
        assert response.status_code == 404, (endpoint, response.status_code)
        assert snapshot(app) == before


@pytest.mark.parametrize("who", ["bob", "anonymous", "other-teacher"])
def test_class_routes_are_404_to_everyone_but_the_classes_teacher(
    app, alice, bob, anonymous, make_client, who
):
    """alice teaches a class with bob in it; nobody else (another teacher included) may open or
    change anything of it."""
    with app.app_context():
        db.session.execute(db.update(User).filter_by(username="alice").values(is_teacher=True))
        db.session.commit()
    assert alice.post("/classes/new", FORM_DATA["classes.create"]).status_code == 302
    with app.app_context():
        classroom_id = db.session.scalar(db.select(Classroom.id))
        db.session.add(ClassroomMember(classroom_id=classroom_id, user_id=_user_id(app, "bob")))
        db.session.commit()
    visitor = {"bob": bob, "anonymous": anonymous}.get(who)
    if visitor is None:
        visitor = make_client()
        assert visitor.register("carol").status_code == 302
        with app.app_context():
            db.session.execute(db.update(User).filter_by(username="carol").values(is_teacher=True))
            db.session.commit()
    bob_id = _user_id(app, "bob")
    checked = 0
    for endpoint, method in _endpoints_with(app, TEACHER):
        if who == "other-teacher" and endpoint in ("classes.index", "classes.create"):
            continue  # another teacher has a class list of their own
        url = _url(app, endpoint, "-", 0, bob_id, classroom_id)
        before = snapshot(app)
        data = dict(FORM_DATA.get(endpoint, {}))
        if method in STATE_CHANGING:
            data["csrf_token"] = visitor.csrf_token()
        response = visitor.client.open(url, method=method, data=data)
        assert response.status_code == 404, (endpoint, response.status_code)
        # The class's name, which a random token or id can't contain by chance.
        assert "Class 7B" not in response.get_data(as_text=True)
        assert snapshot(app) == before, f"{method} {endpoint} changed something for {who}"
        checked += 1
    assert checked >= 8


def test_not_found_says_the_same_for_a_missing_and_a_private_widget(app, widgets, bob):
    """No enumeration hint: someone else's private widget looks exactly like no widget at all."""
    private_id, _ = widgets["private"]
    bob.client.get("/")  # shows (and so clears) the welcome flash
    missing = bob.client.get("/widgets/AAAAAAAAAAAAAAAA")
    hidden = bob.client.get(f"/widgets/{private_id}")
    assert missing.status_code == hidden.status_code == 404
    strip = re.compile(r'<meta name="csrf-token"[^>]*>|value="[^"]*"|"X-CSRFToken": "[^"]*"')
    assert strip.sub("", missing.get_data(as_text=True)) == strip.sub(
        "", hidden.get_data(as_text=True)
    )


def test_widget_ids_are_random_and_unguessable(app, alice):
    ids = [alice.create_widget(f"w{n}") for n in range(20)]
    assert len(set(ids)) == 20
    for widget_id in ids:
        # 96 random bits, URL-safe base64: no counter, no timestamp, no shared prefix.
        assert re.fullmatch(r"[A-Za-z0-9_-]{16}", widget_id)
    assert len({widget_id[:4] for widget_id in ids}) > 15
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Widget)) == 20
