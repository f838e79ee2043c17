"""Real Anvil apps and server modules from public repositories (the `<owner>__<repo>/` folders
here, each with a SOURCE.md naming the repository, commit and licence), run unchanged: a whole
app is zipped as `git clone` gives it and imported through New widget → Import an Anvil app,
then its server functions are called over the GUI widget's call route (or its HTTP endpoints
over /_/api) with the arguments its own client code passes. Where an app needs something
py.space lacks, the test is an expected failure naming the missing feature."""

import datetime
import io
import zipfile
from pathlib import Path

import pytest

from pyspace.extensions import db
from pyspace.models import DataRow, DataTable, Secret, ServerModule, Widget
from pyspace.tables import queries, rows, schema
from pyspace.tables.columns import RowRef
from tests.gui.test_routes import call, frame_boot
from tests.tasks.helpers import TASK_CONFIG
from tests.values.test_call_route import _result, client_media, client_side

CORPUS = Path(__file__).parent
# Every test here starts real sandboxes.
pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True)
def run_limits(app_config):
    app_config.update(TASK_CONFIG)
    app_config.update({"RUN_WALL_SECONDS": 20.0, "RUN_CPU_SECONDS": 10})


def zipped(folder: str) -> bytes:
    """The app's folder as `git clone` and zip give it (its SOURCE.md left out)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((CORPUS / folder).rglob("*")):
            if path.is_file() and path.name != "SOURCE.md":
                archive.write(path, str(path.relative_to(CORPUS / folder)))
    return buffer.getvalue()


def imported(accounts, folder: str) -> str:
    """Import the app through the upload form; the new widget's id."""
    response = accounts.post(
        "/widgets/import",
        {"archive": (io.BytesIO(zipped(folder)), f"{folder}.zip")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].split("/")[-2]


def module_widget(app, accounts, title: str, modules: list[tuple[str, str]]) -> str:
    """A GUI widget whose server code is `modules` (name, code), in that order."""
    widget_id = accounts.create_widget(title, "gui", visibility="public", server_code="")
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        for position, (name, code) in enumerate(modules):
            if position == 0:
                widget.modules[0].name, widget.modules[0].code = name, code
            else:
                db.session.add(
                    ServerModule(widget_id=widget_id, name=name, code=code, position=position)
                )
        db.session.commit()
    return widget_id


def source(folder: str, path: str) -> str:
    return (CORPUS / folder / path).read_text()


def add_tables(app, widget_id: str, tables: dict[str, list[tuple[str, str]]]) -> None:
    """Create the tables an app expects but its anvil.yaml doesn't declare (a dependency app
    declares none: the app using it does)."""
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        for table_name, columns in tables.items():
            table = schema.table_named(widget_id, table_name) or schema.create_table(
                widget, table_name
            )
            for column, type_ in columns:
                schema.add_column(table, column, type_)


def token_for(accounts, widget_id: str) -> str:
    return frame_boot(accounts.client, widget_id)["callToken"]


def raw_call(accounts, widget_id, token, fn, *args, **kwargs):
    """Call with arguments as the client runtime sends them (rows as the references it got)."""
    response = call(accounts.client, widget_id, fn, token, {"args": list(args), "kwargs": kwargs})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def rows_of(app, widget_id: str, table_name: str) -> list[dict]:
    """Every row of the widget's table, as {column: stored value}, oldest first."""
    with app.app_context():
        table = db.session.scalar(
            db.select(DataTable).filter_by(widget_id=widget_id, name=table_name)
        )
        ids = db.session.scalars(
            db.select(DataRow.id).filter_by(table_id=table.id).order_by(DataRow.id)
        ).all()
        values = queries.row_values(list(table.columns), list(ids))
        return [values[row_id] for row_id in ids]


# --- Dan-BB-glitch/feedback-form-tutorial: Anvil's Feedback Form tutorial ----------------------


def test_feedback_form_tutorial_stores_the_feedback_it_is_sent(app, alice):
    widget_id = imported(alice, "Dan-BB-glitch__feedback-form-tutorial")
    token = token_for(alice, widget_id)
    # As Form1.submit_button_click does: add_feedback(name, email, feedback).
    answer = raw_call(alice, widget_id, token, "add_feedback", "Ada", "ada@example.com", "Lovely")
    assert answer == {"ok": True, "result": None}
    got = _result(alice.client, widget_id, token, "add_feedback", "Bo", "bo@example.com", "Meh")
    assert got is None
    feedback = rows_of(app, widget_id, "feedback")
    assert [(row["name"], row["email"], row["feedback"]) for row in feedback] == [
        ("Ada", "ada@example.com", "Lovely"),
        ("Bo", "bo@example.com", "Meh"),
    ]
    assert all(row["created"] is not None for row in feedback)


# --- sajidaniazi/c00288497-news-App: Anvil's News Aggregator tutorial (rows, order_by) --------


NEWS = "sajidaniazi__c00288497-news-App"


def test_news_app_adds_lists_updates_and_deletes_articles(app, alice):
    widget_id = imported(alice, NEWS)
    token = token_for(alice, widget_id)
    # Homepage.add_article_button_click: the dict ArticleEdit's bindings filled in.
    for title in ("First", "Second"):
        article = {"title": title, "content": f"{title} story", "category": None}
        assert raw_call(alice, widget_id, token, "add_article", article)["ok"] is True
    articles = _result(alice.client, widget_id, token, "get_articles")
    assert [row["values"]["title"] for row in articles["rows"]] == ["Second", "First"]
    second, first = articles["rows"]
    # ArticleView.edit_article_click: update_article(self.item, article_copy).
    changed = {**first["values"], "content": "First story, corrected"}
    assert raw_call(alice, widget_id, token, "update_article", first, changed)["ok"] is True
    # ArticleView.delete_article_click raises an event; Homepage calls delete_article(article).
    assert raw_call(alice, widget_id, token, "delete_article", second)["ok"] is True
    (left,) = _result(alice.client, widget_id, token, "get_articles")["rows"]
    assert left["values"]["content"] == "First story, corrected"
    assert left["values"]["updated"] is not None


def test_news_app_stores_an_uploaded_image_in_a_media_column(app, alice):
    widget_id = imported(alice, NEWS)
    token = token_for(alice, widget_id)
    # ArticleEdit.image_uploader_change puts the FileLoader's file in item['image'].
    image = client_side.encode(
        {
            "title": "Pic",
            "content": "",
            "category": None,
            "image": client_media.BlobMedia("image/gif", b"GIF89a", name="p.gif"),
        },
        "args",
    )
    assert raw_call(alice, widget_id, token, "add_article", image)["ok"] is True
    (article,) = _result(alice.client, widget_id, token, "get_articles")["rows"]
    assert article["values"]["image"] is not None


# --- Divyesh06/Article-Blog-Help-Center-Template-for-Anvil: tickets and a sitemap endpoint ----


BLOG = "Divyesh06__Article-Blog-Help-Center-Template-for-Anvil"


def public(app, widget_id: str) -> None:
    """Publish the imported (private) widget, as its owner would before sharing its URL."""
    with app.app_context():
        db.session.get(Widget, widget_id).visibility = "public"
        db.session.commit()


def test_help_center_template_takes_tickets_and_serves_its_sitemap(app, alice):
    widget_id = imported(alice, BLOG)
    # The app's tickets table isn't in its anvil.yaml (Anvil adds columns as rows arrive):
    # made here as the template's README asks its user to.
    add_tables(
        app,
        widget_id,
        {
            "tickets": [
                ("category", "text"),
                ("email", "text"),
                ("description", "text"),
                ("date", "date"),
            ],
            "articles": [("title", "text")],
        },
    )
    token = token_for(alice, widget_id)
    # NewTicket.submit_click: submit_ticket(**{category, email, description, date.today()}).
    ticket = {
        "category": "Billing",
        "email": "ada@example.com",
        "description": "Charged twice",
        "date": datetime.date(2026, 12, 1),
    }
    assert _result(alice.client, widget_id, token, "submit_ticket", **ticket) is None
    assert rows_of(app, widget_id, "tickets") == [ticket]
    with app.app_context():
        articles = schema.table_named(widget_id, "articles")
        rows.add_row(articles, {"title": "Getting started"})
    public(app, widget_id)
    sitemap = app.test_client().get(f"/_/api/{widget_id}/sitemap.xml")
    assert sitemap.status_code == 200 and sitemap.mimetype == "text/xml"
    text = sitemap.get_data(as_text=True)
    assert "<loc>http://localhost/" in text and "#!NewTicket</loc>" in text
    assert "!?article=Getting-started-" in text and text.rstrip().endswith("</urlset>")


# --- Divyesh06/Error-Tracker-Dependency-anvil: an HTTP endpoint that files client errors --------


ERROR_REPORT = {
    "error": "ZeroDivisionError: division by zero",
    "traceback": "Form1, line 12",
    "additional_data": {"browser": "Chromium"},
}


def error_tracker(app, alice) -> str:
    widget_id = imported(alice, "Divyesh06__Error-Tracker-Dependency-anvil")
    # A dependency app declares no tables: the app using it has these (its README lists them).
    add_tables(
        app,
        widget_id,
        {
            "app_data": [("app_id", "text")],
            "error": [
                ("error_msg", "text"),
                ("traceback", "text"),
                ("status", "text"),
                ("users", "simple_object"),
                ("user_count", "number"),
                ("error_count", "number"),
                ("sessions", "simple_object"),
                ("first_appeared", "datetime"),
                ("last_appeared", "datetime"),
            ],
            "timeline": [
                ("type", "text"),
                ("datetime", "datetime"),
                ("user_email", "text"),
                ("additional_info", "simple_object"),
            ],
        },
    )
    with app.app_context():
        timeline = schema.table_named(widget_id, "timeline")
        schema.add_column(timeline, "error", "link_single", schema.table_named(widget_id, "error"))
    public(app, widget_id)
    return widget_id


def post_error(app, widget_id: str) -> None:
    """As error_tracker.collect_error does: POST json to get_api_origin()/internal/log_error."""
    answer = app.test_client().post(f"/_/api/{widget_id}/internal/log_error", json=ERROR_REPORT)
    assert answer.status_code == 200, answer.get_data(as_text=True)


def test_error_tracker_files_an_error_posted_to_its_endpoint(app, alice):
    widget_id = error_tracker(app, alice)
    post_error(app, widget_id)
    (error,) = rows_of(app, widget_id, "error")
    assert (error["error_msg"], error["status"], error["error_count"], error["users"]) == (
        "ZeroDivisionError: division by zero",
        "pending",
        1,
        [],
    )
    # The endpoint's own session id (a fresh one per request, as in Anvil).
    (session,) = error["sessions"]
    assert isinstance(session, str) and len(session) >= 20
    (event,) = rows_of(app, widget_id, "timeline")
    assert event["type"] == "user_error" and event["error"].table == "error"
    assert event["additional_info"] == {"browser": "Chromium", "session": session}
    assert rows_of(app, widget_id, "app_data") == [{"app_id": widget_id}]


def test_error_tracker_counts_an_error_seen_again_in_another_session(app, alice):
    widget_id = error_tracker(app, alice)
    post_error(app, widget_id)
    post_error(app, widget_id)
    (error,) = rows_of(app, widget_id, "error")
    assert error["error_count"] == 2 and len(set(error["sessions"])) == 2
    assert len(rows_of(app, widget_id, "timeline")) == 2


# --- Divyesh06/Server-Batching-anvil: many server calls in one round trip -----------------------


BATCHING = "Divyesh06__Server-Batching-anvil"
# The app using the dependency has its own callables; this one stands for them.
BATCHED_CALLABLES = """import anvil.server

@anvil.server.callable
def double(x):
  return 2 * x
"""


@pytest.mark.xfail(
    strict=True,
    reason="anvil._server.registrations (Anvil's internal table of server functions, which "
    "the module imports)",
)
def test_server_batching_runs_queued_calls_in_one_call(app, alice):
    modules = [
        ("BatchCallExecutor", source(BATCHING, "server_code/BatchCallExecutor.py")),
        ("AppFunctions", BATCHED_CALLABLES),
    ]
    widget_id = module_widget(app, alice, "Server batching", modules)
    token = token_for(alice, widget_id)
    # Server_Batching.BatchServerCall.__exit__ sends the queued calls' name, args and kwargs.
    queued = [
        {"name": "double", "args": [2], "kwargs": {}},
        {"name": "no_such_function", "args": [], "kwargs": {}},
        {"name": "double", "args": [], "kwargs": {"x": 5}},
    ]
    got = _result(alice.client, widget_id, token, "Server_Batching.batch_call_executor", queued)
    assert got == [4, None, 10]


# --- Abhijit47/Task_manager_app-Python: projects, link_multiple columns, require_user -----------


TASKS_APP = "Abhijit47__Task_manager_app-Python"


def seeded_project(app, widget_id: str) -> None:
    """A project with two columns and one task row, as add_project_to_table leaves them."""
    with app.app_context():
        tables = {name: schema.table_named(widget_id, name) for name in ("projects", "columns")}
        columns = [
            rows.add_row(tables["columns"], {"title": title, "type": kind})
            for title, kind in (("Task Name", "Text"), ("Done", "Checkbox"))
        ]
        project = rows.add_row(
            tables["projects"],
            {"project_name": "Launch", "columns": [RowRef(None, c) for c in columns]},
        )
        rows.add_row(
            schema.table_named(widget_id, "rows"),
            {"project": RowRef(None, project), "data": {str(c): "" for c in columns}},
        )


def test_task_manager_lists_edits_and_deletes_a_project(app, alice):
    widget_id = imported(alice, TASKS_APP)
    with app.app_context():
        projects = schema.table_named(widget_id, "projects")
        assert [(c.name, c.type, c.link_table.name) for c in projects.columns[1:]] == [
            ("columns", "link_multiple", "columns")  # declared after projects in anvil.yaml
        ]
    seeded_project(app, widget_id)
    token = token_for(alice, widget_id)
    # Every callable is require_user=True: alice, signed in, is the caller.
    # ProjectList: get_projects(); ProjectView: get_rows(project).
    (project,) = _result(alice.client, widget_id, token, "get_projects")["rows"]
    assert project["values"]["project_name"] == "Launch"
    (task,) = raw_call(alice, widget_id, token, "get_rows", project)["result"]["rows"]
    first_column = next(iter(task["values"]["data"]))
    # RowTemplate: change_cell_value(row, column_id, text) when a cell is edited.
    changed = raw_call(alice, widget_id, token, "change_cell_value", task, first_column, "Docs")
    assert changed == {"ok": True, "result": None}
    assert rows_of(app, widget_id, "rows")[0]["data"][first_column] == "Docs"
    renamed = raw_call(alice, widget_id, token, "change_project_name", project, "Launch v2")
    assert renamed["ok"] is True
    assert rows_of(app, widget_id, "projects")[0]["project_name"] == "Launch v2"
    # ProjectCard's delete: delete_project(project) removes its columns and rows too.
    assert raw_call(alice, widget_id, token, "delete_project", project)["ok"] is True
    assert [rows_of(app, widget_id, name) for name in ("projects", "columns", "rows")] == [
        [],
        [],
        [],
    ]


def test_task_manager_creates_a_project_with_its_default_columns(app, alice):
    widget_id = imported(alice, TASKS_APP)
    token = token_for(alice, widget_id)
    project = _result(alice.client, widget_id, token, "add_project_to_table", "Launch")
    assert project["values"]["project_name"] == "Launch"
    titles = [c["title"] for c in rows_of(app, widget_id, "columns")]
    assert titles == ["Task Name", "Priority", "Done"]


def test_task_manager_comments_carry_their_author(app, alice):
    widget_id = imported(alice, TASKS_APP)
    seeded_project(app, widget_id)
    token = token_for(alice, widget_id)
    (project,) = _result(alice.client, widget_id, token, "get_projects")["rows"]
    # CommentModal: add_comment(text, project); the comment's user is anvil.users.get_user().
    answer = raw_call(alice, widget_id, token, "add_comment", "Looks good", project)
    assert answer == {"ok": True, "result": None}
    # The project goes back as the reference the page was given (raw, as client code sends it).
    comments = raw_call(alice, widget_id, token, "get_comments", project)
    (comment,) = comments["result"]["rows"]
    assert comment["values"]["comment"] == "Looks good"
    # Its author is alice's row of the app's users table.
    author = comment["values"]["user"]
    assert author["$t"] == "row" and author["values"]["username"] == "alice"


# --- DmitrTRC/InfoPanel_WEB_APP: several modules importing Google, users, email, requests -------


INFO_PANEL = "DmitrTRC__InfoPanel_WEB_APP"


def test_info_panel_imports_with_its_service_modules_and_answers(app, alice):
    widget_id = imported(alice, INFO_PANEL)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert sorted(name for name, _code in widget.module_sources()) == [
            "api_backend",
            "weather",
        ]
    token = token_for(alice, widget_id)
    # Every module (anvil.google.*, anvil.users, anvil.email, requests) imports; FormTasks'
    # get_tasks_all answers None.
    assert raw_call(alice, widget_id, token, "get_tasks_all") == {"ok": True, "result": None}


def test_info_panel_keeps_column_names_with_spaces(app, alice):
    widget_id = imported(alice, INFO_PANEL)
    with app.app_context():
        columns = schema.table_named(widget_id, "columns")
        assert [(c.name, c.type) for c in columns.columns] == [
            ("Task Name", "text"),
            ("Assigned to", "link_single"),
        ]


# --- anvil-works/saas-template: Anvil's SaaS template (users, secrets, Stripe) ------------------


SAAS = "anvil-works__saas-template"


def test_saas_template_imports_its_secret_blank_and_its_users_table(app, alice):
    widget_id = imported(alice, SAAS)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert sorted(name for name, _code in widget.module_sources()) == [
            "Product",
            "StripeFunctions",
            "Users",
        ]
        (secret,) = db.session.scalars(db.select(Secret).filter_by(widget_id=widget_id)).all()
        assert (secret.name, secret.required, secret.ciphertext) == (
            "stripe_secret_api_key",
            True,
            None,
        )
        users = schema.table_named(widget_id, "users")
        assert {"subscription", "stripe_id", "email"} <= {c.name for c in users.columns}


@pytest.mark.xfail(
    strict=True,
    reason="the stripe package in the sandbox (Users and StripeFunctions `import stripe`), "
    "and anvil.users sign-in",
)
def test_saas_template_calculator_answers_a_subscribed_user(app, alice):
    widget_id = imported(alice, SAAS)
    token = token_for(alice, widget_id)
    answer = raw_call(alice, widget_id, token, "calculate_percentage_of", 1, 4)
    assert answer == {"ok": True, "result": 25.0}


# --- anvilistas/anvil-extras: its server modules (authorisation, serialisation) ----------------


EXTRAS = "anvilistas__anvil-extras"
# The app using anvil-extras: a callable guarded by its authorisation module, and one that
# serialises a table with its serialisation module. Roles and permissions live in tables,
# linked from the user's row, as anvil-extras' documentation describes.
EXTRAS_APP = """import anvil.server
from anvil.tables import app_tables
from . import authorisation, serialisation

@anvil.server.callable
def can(email, permission):
  return authorisation.has_permission(permission, user=app_tables.people.get(email=email))

@anvil.server.callable
def people_as_dicts():
  return serialisation.datatable_schema("people", with_id=False).dump(
    app_tables.people.search(), many=True)
"""


def extras_widget(app, alice) -> str:
    modules = [("app_code", EXTRAS_APP)] + [
        (name, source(EXTRAS, f"server_code/{name}.py"))
        for name in ("authorisation", "lazy_module_loader", "serialisation")
    ]
    widget_id = module_widget(app, alice, "anvil-extras", modules)
    add_tables(app, widget_id, {"permissions": [("name", "text")], "roles": [("name", "text")]})
    with app.app_context():
        tables = {name: schema.table_named(widget_id, name) for name in ("permissions", "roles")}
        schema.add_column(tables["roles"], "permissions", "link_multiple", tables["permissions"])
        people = schema.create_table(db.session.get(Widget, widget_id), "people")
        schema.add_column(people, "email", "text")
        schema.add_column(people, "roles", "link_multiple", tables["roles"])
        edit = rows.add_row(tables["permissions"], {"name": "edit"})
        view = rows.add_row(tables["permissions"], {"name": "view"})
        editor = rows.add_row(
            tables["roles"],
            {"name": "editor", "permissions": [RowRef(None, edit), RowRef(None, view)]},
        )
        viewer = rows.add_row(
            tables["roles"], {"name": "viewer", "permissions": [RowRef(None, view)]}
        )
        rows.add_row(people, {"email": "ed@example.com", "roles": [RowRef(None, editor)]})
        rows.add_row(people, {"email": "vi@example.com", "roles": [RowRef(None, viewer)]})
    return widget_id


def test_anvil_extras_authorisation_checks_permissions_through_linked_roles(app, alice):
    widget_id = extras_widget(app, alice)
    token = token_for(alice, widget_id)
    asked = [
        ("ed@example.com", "edit"),
        ("ed@example.com", ["edit", "view"]),
        ("vi@example.com", "view"),
        ("vi@example.com", "edit"),
    ]
    answers = [_result(alice.client, widget_id, token, "can", *question) for question in asked]
    assert answers == [True, True, True, False]


def test_anvil_extras_serialisation_dumps_a_table(app, alice):
    widget_id = extras_widget(app, alice)
    token = token_for(alice, widget_id)
    got = _result(alice.client, widget_id, token, "people_as_dicts")
    assert [person["email"] for person in got] == ["ed@example.com", "vi@example.com"]
