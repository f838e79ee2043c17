"""Pyodide's memory snapshot (pyspace/gui/snapshot.py): named by what it was made from, named to
the frame only when it exists, and served as an immutable, gzip-encoded public file."""

import gzip
import re
from pathlib import Path

import pytest

from pyspace.gui import snapshot
from pyspace.gui.frame_policy import PYODIDE_DIR

REAL_STATIC = snapshot.STATIC_ROOT


def fake_pyodide(static_folder: Path, wasm: bytes) -> None:
    folder = snapshot.pyodide_dir(static_folder)
    folder.mkdir(parents=True)
    for name in snapshot.PYODIDE_INPUTS:
        (folder / name).write_bytes(wasm if name.endswith(".wasm") else name.encode())


def test_snapshot_name_changes_when_pyodide_changes(tmp_path):
    fake_pyodide(tmp_path / "old", b"\0asm one")
    fake_pyodide(tmp_path / "new", b"\0asm two")
    old_name = snapshot.snapshot_name(tmp_path / "old")
    assert re.fullmatch(r"pyodide-[0-9a-f]{20}\.bin\.gz", old_name)
    assert snapshot.snapshot_name(tmp_path / "new") != old_name


def test_snapshot_name_changes_when_the_client_runtime_changes(tmp_path):
    # The snapshot holds the client runtime imported: a changed runtime needs a new snapshot.
    for name, source in (("old", "VERSION = 1\n"), ("new", "VERSION = 2\n")):
        fake_pyodide(tmp_path / name, b"\0asm")
        package = tmp_path / name / snapshot.RUNTIME_SUBDIR / "anvil"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(source)
    assert snapshot.snapshot_name(tmp_path / "new") != snapshot.snapshot_name(tmp_path / "old")


@pytest.fixture
def static_copy(app, tmp_path, monkeypatch):
    """A static folder whose vendored Pyodide is the real one (linked), with no snapshot yet
    (the app gets its own folder back afterwards: the next test may share the app)."""
    static = tmp_path / "static"
    pyodide = snapshot.pyodide_dir(static)
    pyodide.mkdir(parents=True)
    for name in snapshot.PYODIDE_INPUTS:
        (pyodide / name).symlink_to(snapshot.pyodide_dir(REAL_STATIC) / name)
    (static / "gui-runtime").symlink_to(REAL_STATIC / "gui-runtime")
    monkeypatch.setattr(app, "static_folder", str(static))
    return static


def put_snapshot(static: Path, payload: bytes) -> str:
    path = snapshot.snapshot_path(static)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload))
    return f"{PYODIDE_DIR}snapshot/{path.name}"


def test_frame_is_told_of_the_snapshot_only_once_it_exists(app, static_copy):
    with app.test_request_context():
        assert snapshot.snapshot_url() is None
        url = put_snapshot(static_copy, b"memory")
        assert snapshot.snapshot_url() == url


def test_snapshot_is_served_gzip_encoded_immutable_and_to_the_opaque_origin(client, static_copy):
    url = put_snapshot(static_copy, b"memory " * 1000)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert gzip.decompress(response.data) == b"memory " * 1000
    response.close()
