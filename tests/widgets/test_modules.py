"""Server code in several named modules: the editor's file list (add, rename, delete), saving
every module at once, and runs where the modules form one package (`from . import Utils`)
with functions registered in any module callable — in real sandboxes, through the site's
call route."""

import json
import re

import pytest

from pyspace.extensions import db
from pyspace.models import ServerModule, Widget
from pyspace.sandbox import runner_for
from tests.sandbox.helpers import SMALL_LIMITS

BOOT_JSON = re.compile(r'<script type="application/json" id="pyspace-boot">(.*?)</script>', re.S)

MAIN = "import anvil.server\nfrom . import Utils\nfrom .Plans import get_plan\n"
UTILS = "def double(n):\n    return n * 2\n"
PLANS = (
    "import anvil.server\n"
    "from . import Utils\n\n"
    "@anvil.server.callable\n"
    "def get_plan(name):\n"
    "    return {'plan': name, 'price': Utils.double(21)}\n"
)


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(SMALL_LIMITS)


def module_ids(app, widget_id):
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        return {m.name: m.id for m in widget.modules}


def add_module(alice, widget_id, name):
    return alice.post(f"/widgets/{widget_id}/modules", {"name": name})


def call(app, accounts, widget_id, fn, args):
    response = accounts.client.get(f"/widgets/{widget_id}/frame")
    token = json.loads(BOOT_JSON.search(response.get_data(as_text=True)).group(1))["callToken"]
    answer = app.test_client().post(
        f"/widgets/{widget_id}/call/{fn}",
        headers={"X-Call-Token": token},
        data=json.dumps({"args": args, "kwargs": {}}),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_a_new_widget_has_one_module_named_server_code(app, alice):
    widget_id = alice.create_widget("One", server_code="print('hi')\n")
    with app.app_context():
        assert db.session.get(Widget, widget_id).module_sources() == [
            ("server_code", "print('hi')\n")
        ]


def test_added_modules_are_saved_together_and_import_each_other(app, alice):
    widget_id = alice.create_widget("Plans", "gui")
    assert add_module(alice, widget_id, "Utils").status_code == 302
    assert add_module(alice, widget_id, "Plans").status_code == 302
    ids = module_ids(app, widget_id)
    alice.save_widget(
        widget_id,
        server_code=MAIN,
        **{f"module_{ids['Utils']}": UTILS, f"module_{ids['Plans']}": PLANS},
    )
    with app.app_context():
        sources = db.session.get(Widget, widget_id).module_sources()
    assert sources == [("server_code", MAIN), ("Utils", UTILS), ("Plans", PLANS)]
    answer = call(app, alice, widget_id, "get_plan", ["pro"])
    assert answer.get("result") == {"plan": "pro", "price": 42}, answer


def test_a_function_registered_in_a_module_nobody_imports_is_callable(app, alice):
    widget_id = alice.create_widget("Lonely", "gui")
    add_module(alice, widget_id, "Extra")
    ids = module_ids(app, widget_id)
    extra = "import anvil.server\n\n@anvil.server.callable\ndef ping():\n    return 'pong'\n"
    alice.save_widget(widget_id, server_code="x = 1\n", **{f"module_{ids['Extra']}": extra})
    assert call(app, alice, widget_id, "ping", []).get("result") == "pong"


def test_an_error_in_a_module_shows_that_modules_name_in_the_traceback(app):
    helpers = "def boom():\n    return 1 / 0\n"
    main = "from .Helpers import boom\nprint('before')\nboom()\n"
    with app.app_context():
        result = runner_for(app).run("w", [("server_code", main), ("Helpers", helpers)], None)
    assert result.stdout == "before\n"
    assert 'File "server_code.py", line 3' in result.error["traceback"]
    assert 'File "Helpers.py", line 2, in boom' in result.error["traceback"]


def test_a_top_level_import_finds_a_module_as_in_anvil(app):
    with app.app_context():
        result = runner_for(app).run(
            "w", [("server_code", "import Utils\nprint(Utils.X)\n"), ("Utils", "X = 7\n")], None
        )
    assert (result.ok, result.stdout) == (True, "7\n"), result


def test_modules_inside_packages_keep_dotted_names(app):
    sources = [
        ("server_code", "from .billing.plans import price\nprint(price())\n"),
        ("billing", "RATE = 3\n"),
        ("billing.plans", "from . import RATE\n\ndef price():\n    return RATE * 2\n"),
    ]
    with app.app_context():
        result = runner_for(app).run("w", sources, None)
    assert (result.ok, result.stdout) == (True, "6\n"), result


def test_module_names_must_be_python_identifiers_and_unique(app, alice):
    widget_id = alice.create_widget("Names")
    for bad in ("2fast", "my-module", "class", "../etc", "server_code"):
        add_module(alice, widget_id, bad)
    assert list(module_ids(app, widget_id)) == ["server_code"]
    add_module(alice, widget_id, "billing.plans")
    assert list(module_ids(app, widget_id)) == ["server_code", "billing.plans"]


def test_module_count_is_limited_by_a_setting(app, alice):
    app.config["MODULES_PER_WIDGET"] = 2
    widget_id = alice.create_widget("Few")
    add_module(alice, widget_id, "A")
    add_module(alice, widget_id, "B")
    assert list(module_ids(app, widget_id)) == ["server_code", "A"]


def test_total_module_size_is_limited_by_a_setting(app, alice):
    app.config["MODULES_TOTAL_BYTES"] = 100
    widget_id = alice.create_widget("Big")
    add_module(alice, widget_id, "A")
    ids = module_ids(app, widget_id)
    response = alice.post(
        f"/widgets/{widget_id}/edit",
        {
            "title": "Big",
            "visibility": "private",
            "server_code": "x = 1\n",
            f"module_{ids['A']}": "y = 2\n" * 30,
        },
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(ServerModule, ids["A"]).code == "import anvil.server\n"


def test_rename_and_delete_a_module(app, alice):
    widget_id = alice.create_widget("Tidy")
    add_module(alice, widget_id, "Old")
    old = module_ids(app, widget_id)["Old"]
    alice.post(f"/widgets/{widget_id}/modules/{old}/rename", {"name": "New"})
    assert list(module_ids(app, widget_id)) == ["server_code", "New"]
    alice.post(f"/widgets/{widget_id}/modules/{old}/delete", {})
    assert list(module_ids(app, widget_id)) == ["server_code"]


def test_only_the_owner_changes_modules(app, alice, bob):
    widget_id = alice.create_widget("Mine", visibility="public")
    assert add_module(bob, widget_id, "Evil").status_code == 404
    first = module_ids(app, widget_id)["server_code"]
    assert bob.post(f"/widgets/{widget_id}/modules/{first}/delete", {}).status_code == 404


def test_forks_and_the_public_page_have_every_module(app, alice, bob):
    widget_id = alice.create_widget("Shared", visibility="public")
    add_module(alice, widget_id, "Utils")
    ids = module_ids(app, widget_id)
    alice.save_widget(widget_id, **{f"module_{ids['Utils']}": "HELPER_MARKER = 1\n"})
    page = bob.client.get(f"/widgets/{widget_id}").get_data(as_text=True)
    assert "Utils.py" in page and "HELPER_MARKER" in page
    response = bob.post(f"/widgets/{widget_id}/fork", {})
    assert response.status_code == 302
    with app.app_context():
        fork = db.session.scalar(db.select(Widget).filter_by(forked_from_id=widget_id))
        assert [name for name, _code in fork.module_sources()] == ["server_code", "Utils"]
        assert fork.modules[1].code == "HELPER_MARKER = 1\n"


def test_a_credential_in_any_module_is_warned_about(app, alice):
    from pyspace.secrets.leaks import leak_warnings

    widget_id = alice.create_widget("Leaky")
    add_module(alice, widget_id, "Config")
    ids = module_ids(app, widget_id)
    token = "ghp_" + "a1B2c3D4e5" * 4
    alice.save_widget(widget_id, **{f"module_{ids['Config']}": f"TOKEN = '{token}'\n"})
    with app.app_context():
        warnings = leak_warnings(db.session.get(Widget, widget_id))
    assert [(w.field, w.field_label) for w in warnings] == [
        ("module:Config", "Server module Config")
    ]
