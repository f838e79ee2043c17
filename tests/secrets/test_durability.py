"""A kill -9 of the server loses no acknowledged change: values readable, users still logged in."""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CSRF_META, PASSWORD

SERVER = textwrap.dedent("""
    import sys
    from werkzeug.serving import make_server
    from pyspace import create_app
    from pyspace.extensions import db

    instance = sys.argv[1]
    app = create_app({"INSTANCE_PATH": instance, "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/pyspace.sqlite"})
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()
""")
VALUE = "survives-kill-9-value"


def start_server(instance: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPACE_")}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(instance)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}"


class Browser:
    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.base = ""

    def get(self, path, headers=None) -> str:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        return self.opener.open(request, timeout=10).read().decode()

    def post(self, path, data=None, headers=None) -> str:
        # The log-in page has a token for anyone (logged in, it sends you to the home page).
        token = CSRF_META.search(self.get("/login")).group(1)
        body = urllib.parse.urlencode({**(data or {}), "csrf_token": token}).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        return self.opener.open(request, timeout=10).read().decode()


@pytest.mark.long
def test_acknowledged_secret_changes_and_sessions_survive_kill_9(tmp_path):
    instance = tmp_path / "instance"
    browser = Browser()
    process, browser.base = start_server(instance)
    try:
        browser.post("/register", {"username": "alice", "password": PASSWORD})
        editor = browser.post("/widgets/new", {"title": "Durable", "kind": "script"})
        widget_id = re.search(r'/widgets/([\w-]+)/secrets"', editor).group(1)
        panel = browser.post(f"/widgets/{widget_id}/secrets", headers={"HX-Request": "true"})
        secret_id = re.search(r'id="secret-(\d+)"', panel).group(1)
        browser.post(
            f"/widgets/{widget_id}/secrets/{secret_id}/value",
            {"value": VALUE},
            headers={"HX-Request": "true"},
        )
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    process, browser.base = start_server(instance)
    try:
        shown = browser.post(
            f"/widgets/{widget_id}/secrets/{secret_id}/reveal", headers={"HX-Request": "true"}
        )
        assert VALUE in shown  # still logged in, and the value decrypts with the persisted key
    finally:
        process.kill()
        process.wait()
    assert (instance / "secrets.key").exists() and (instance / "flask_secret_key").exists()
