"""Importing an Anvil app (a zip of its repository, or a .yaml export) as a widget: modules,
tables, blank required secrets, disabled schedules, a report; then its server functions answer
through the call route GUI widgets use once the secrets are set. Bad archives are refused
with a clear message and leave nothing behind. Export gives the same widget back."""

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
import yaml

from pyspace.extensions import db
from pyspace.models import DataRow, DataTable, Schedule, Secret, Widget
from tests.sandbox.helpers import SMALL_LIMITS

APPS = Path(__file__).resolve().parents[1] / "anvil_apps"
BOOT_JSON = re.compile(r'<script type="application/json" id="pyspace-boot">(.*?)</script>', re.S)


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(SMALL_LIMITS)


def zipped(name: str, top: str = "") -> bytes:
    """The app folder as `git clone` + zip gives it (optionally inside one top folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((APPS / name).rglob("*")):
            if path.is_file() and path.name != "README.md":
                archive.write(path, top + str(path.relative_to(APPS / name)))
    return buffer.getvalue()


def upload(accounts, data: bytes, filename: str = "app.zip"):
    return accounts.post(
        "/widgets/import", {"archive": (io.BytesIO(data), filename)}, follow_redirects=False
    )


def imported_id(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].split("/")[-2]


def widget_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Widget))


def call(app, accounts, widget_id, fn, args):
    page = accounts.client.get(f"/widgets/{widget_id}/frame").get_data(as_text=True)
    token = json.loads(BOOT_JSON.search(page).group(1))["callToken"]
    answer = app.test_client().post(
        f"/widgets/{widget_id}/call/{fn}",
        headers={"X-Call-Token": token},
        data=json.dumps({"args": args, "kwargs": {}}),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def set_secret(app, accounts, widget_id, name, value):
    with app.app_context():
        secret_id = db.session.scalar(
            db.select(Secret.id).filter_by(widget_id=widget_id, name=name)
        )
    response = accounts.post(f"/widgets/{widget_id}/secrets/{secret_id}/value", {"value": value})
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)


def test_anvils_todolist_template_imports_with_its_table_and_runs(app, alice):
    widget_id = imported_id(upload(alice, zipped("TodoList", "anvil-todo/")))
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert (widget.title, widget.kind, widget.visibility) == ("My CRUD App", "gui", "private")
        assert [name for name, _code in widget.module_sources()] == ["ServerModule1"]
        table = db.session.scalar(db.select(DataTable).filter_by(widget_id=widget_id))
        assert (table.name, [(c.name, c.type) for c in table.columns]) == (
            "tasks",
            [("name", "text"), ("complete", "bool")],
        )
    report = alice.client.get(f"/widgets/{widget_id}/import-report").get_data(as_text=True)
    assert "Form1" in report and "not imported as a UI" in report
    assert f"/widgets/{widget_id}/edit" in report
    assert call(app, alice, widget_id, "add_task", ["Buy milk"]).get("ok", True), "add_task"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DataRow)) == 1


def test_an_app_of_several_modules_imports_its_secrets_blank_and_schedules_disabled(app, alice):
    widget_id = imported_id(upload(alice, zipped("PlanDesk")))
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        names = [name for name, _code in widget.module_sources()]
        assert sorted(names) == [
            "ServerModule1",
            "Subscriptions",
            "Utils",
            "billing",
            "billing.charges",
        ]
        secrets = db.session.scalars(db.select(Secret).filter_by(widget_id=widget_id)).all()
        assert sorted((s.name, s.kind, s.required, s.ciphertext) for s in secrets) == [
            ("signing", "key", True, None),
            ("stripe_key", "secret", True, None),
        ]
        schedules = db.session.scalars(db.select(Schedule).filter_by(widget_id=widget_id)).all()
        assert sorted(
            (s.task_name, s.every, s.n, s.at_hour, s.at_minute, s.enabled) for s in schedules
        )[0] == ("nightly_report", "day", 1, 3, 15, False)
        assert all(not s.enabled for s in schedules) and len(schedules) == 2
    report = alice.client.get(f"/widgets/{widget_id}/import-report").get_data(as_text=True)
    assert "Set 2 secret values" in report and "Enable 2 schedules" in report
    assert "monthly_invoices (every month)" in report  # no monthly schedules here
    assert "invoices.pdf (media)" in report or "media" in report
    assert "Formatting" in report  # a client module, listed
    set_secret(app, alice, widget_id, "stripe_key", "sk_test_abcd1234")
    assert call(app, alice, widget_id, "add_plan", ["pro", 9.5]).get("ok", True)
    answer = call(app, alice, widget_id, "quote", ["pro"])
    assert answer.get("result") == "950 EUR via key ending 1234", answer


def test_an_app_export_yaml_imports_too(app, alice):
    export = {
        "name": "Exported",
        "package_name": "Exported",
        "server_modules": [
            {
                "name": "ServerModule1",
                "code": "import anvil.server\nfrom . import Helpers\n\n"
                "@anvil.server.callable\ndef hi():\n    return Helpers.word()\n",
            },
            {"name": "Helpers", "code": "def word():\n    return 'hello'\n"},
        ],
        "forms": [{"class_name": "Form1", "container": {"type": "ColumnPanel"}}],
        "db_schema": [],
    }
    widget_id = imported_id(upload(alice, yaml.safe_dump(export).encode(), "Exported.yaml"))
    assert call(app, alice, widget_id, "hi", []).get("result") == "hello"


def refused(app, alice, data: bytes, filename="app.zip"):
    before = widget_count(app)
    response = upload(alice, data, filename)
    assert response.status_code in (413, 422), response.status_code
    assert widget_count(app) == before
    return response.get_data(as_text=True)


def make_zip(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return buffer.getvalue()


ANVIL_YAML = "name: Bad\npackage_name: Bad\n"


def test_path_traversal_in_a_zip_is_refused(app, alice):
    data = make_zip([("anvil.yaml", ANVIL_YAML), ("../server_code/Evil.py", "x = 1\n")])
    assert "outside the app" in refused(app, alice, data)


def test_a_symlink_in_a_zip_is_refused(app, alice):
    link = zipfile.ZipInfo("server_code/link.py")
    link.external_attr = 0o120777 << 16
    data = make_zip([("anvil.yaml", ANVIL_YAML), (link, "/etc/passwd")])
    assert "symbolic link" in refused(app, alice, data)


def test_a_zip_bomb_is_refused(app, alice):
    app.config["IMPORT_UNPACKED_BYTES"] = 1024 * 1024
    data = make_zip([("anvil.yaml", ANVIL_YAML), ("server_code/Big.py", "#" * (3 * 1024 * 1024))])
    assert len(data) < 100_000
    assert "unpacks to more than" in refused(app, alice, data)


def test_yaml_aliases_are_refused(app, alice):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
    data = make_zip([("anvil.yaml", "name: Bomb\n" + bomb)])
    assert "aliases" in refused(app, alice, data)


def test_a_schema_of_ten_thousand_columns_is_refused(app, alice):
    columns = [{"name": f"c{i}", "type": "string"} for i in range(10_000)]
    spec = {"name": "Wide", "db_schema": {"wide": {"columns": columns}}}
    data = make_zip([("anvil.yaml", yaml.safe_dump(spec))])
    assert "columns" in refused(app, alice, data)


def test_a_50_mb_upload_is_refused(app, alice):
    before = widget_count(app)
    response = upload(alice, b"\0" * (50 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than the site accepts" in response.get_data(as_text=True)
    assert widget_count(app) == before


def test_not_an_anvil_app_is_refused(app, alice):
    assert "No anvil.yaml" in refused(app, alice, make_zip([("README.md", "hi")]))
    assert "zip" in refused(app, alice, b"hello", "notes.txt")


def test_the_widget_quota_holds_for_imports(app, alice):
    app.config["QUOTA_WIDGETS"] = 1
    alice.create_widget("Only one")
    assert "widgets" in refused(app, alice, zipped("TodoList"))


def test_an_error_during_import_leaves_nothing_behind(app, alice, monkeypatch):
    from pyspace.appimport import building

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(building, "_add_schedules", broken)
    before = widget_count(app)
    with pytest.raises(RuntimeError):
        upload(alice, zipped("PlanDesk"))
    assert widget_count(app) == before
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Secret)) == 0


# --- Export ------------------------------------------------------------------------------


def test_export_then_import_gives_the_same_widget_without_secret_values(app, alice):
    widget_id = imported_id(upload(alice, zipped("PlanDesk")))
    set_secret(app, alice, widget_id, "stripe_key", "sk_live_SUPERSECRET_9876")
    response = alice.client.get(f"/widgets/{widget_id}/export.zip")
    assert response.status_code == 200
    data = response.data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
        spec = yaml.safe_load(archive.read("anvil.yaml"))
    assert b"SUPERSECRET" not in everything and b"sk_live" not in everything
    assert set(spec["secrets"]) == {"stripe_key", "signing"}
    again = imported_id(upload(alice, data))

    def shape(wid):
        with app.app_context():
            widget = db.session.get(Widget, wid)
            tables = db.session.scalars(db.select(DataTable).filter_by(widget_id=wid)).all()
            schedules = db.session.scalars(db.select(Schedule).filter_by(widget_id=wid)).all()
            return (
                widget.title,
                sorted(widget.module_sources()),
                sorted((t.name, tuple((c.name, c.type) for c in t.columns)) for t in tables),
                sorted((s.name, s.kind, s.required) for s in widget.secrets),
                sorted(
                    (s.task_name, s.every, s.n, s.at_hour, s.at_minute, s.weekday, s.enabled)
                    for s in schedules
                ),
            )

    assert shape(again) == shape(widget_id)
    assert call(app, alice, again, "add_plan", ["x", 1.0]).get("ok", True)


def test_export_is_for_the_owner_only(app, alice, bob):
    widget_id = alice.create_widget("Mine", visibility="public")
    assert bob.client.get(f"/widgets/{widget_id}/export.zip").status_code == 404
    assert alice.client.get(f"/widgets/{widget_id}/export.zip").status_code == 200


def test_the_editor_links_to_the_export_and_new_widget_to_the_import(alice):
    widget_id = alice.create_widget("Linked")
    assert f"/widgets/{widget_id}/export.zip" in alice.client.get(
        f"/widgets/{widget_id}/edit"
    ).get_data(as_text=True)
    assert "/widgets/import" in alice.client.get("/widgets/new").get_data(as_text=True)


def test_link_columns_keep_their_target_tables_through_import_and_export(app, alice):
    # A public app (tests/anvil_corpus) whose projects.columns links to a table declared later.
    folder = APPS.parent / "anvil_corpus" / "Abhijit47__Task_manager_app-Python"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, str(path.relative_to(folder)))
    widget_id = imported_id(upload(alice, buffer.getvalue()))

    def links(wid):
        with app.app_context():
            tables = db.session.scalars(db.select(DataTable).filter_by(widget_id=wid)).all()
            return sorted(
                (t.name, c.name, c.type, c.link_table.name)
                for t in tables
                for c in t.columns
                if c.link_table_id is not None
            )

    assert links(widget_id) == [
        ("comments", "project", "link_single", "projects"),
        ("comments", "user", "link_single", "users"),
        ("projects", "columns", "link_multiple", "columns"),
        ("rows", "project", "link_single", "projects"),
    ]
    again = imported_id(upload(alice, alice.client.get(f"/widgets/{widget_id}/export.zip").data))
    assert links(again) == links(widget_id)
