"""HTTP endpoints of widgets at /_/api/<widget id>/<path>: methods, bodies, path parameters,
Basic auth, CORS, 404s, redaction, the body cap, rate limits, and the editor's panel."""

import base64
import json

import pytest

from pyspace.sandbox.redaction import WITHHELD
from tests.conftest import PASSWORD
from tests.sandbox.helpers import SMALL_LIMITS, add_secret, confinement

SECRET = "sk-endpoint-4b1d-never-answer"

API_CODE = """
import anvil, anvil.server, anvil.secrets

@anvil.server.http_endpoint("/hello")
def hello(**params):
    return "hello " + params.get("name", "world")

@anvil.server.http_endpoint("/items/:item_id", methods=["GET", "POST", "PUT"])
def item(item_id, **params):
    r = anvil.server.request
    return {"id": item_id, "method": r.method, "json": r.body_json, "form": r.form_params,
            "query": r.query_params, "path": r.path, "origin": anvil.server.get_api_origin(),
            "app": anvil.server.get_app_origin(), "cookie": "cookie" in r.headers,
            "params": params, "ip": r.remote_address}

@anvil.server.http_endpoint("/teapot")
def teapot():
    headers = {"X-Kind": "teapot", "Set-Cookie": "s=1"}
    return anvil.server.HttpResponse(418, "short and stout", headers)

@anvil.server.http_endpoint("/me", authenticate_users=True)
def me():
    r = anvil.server.request
    return {"user": r.user, "password": r.password, "authorization": "authorization" in r.headers}

@anvil.server.route("/cors", enable_cors=True)
def cors():
    return {"ok": True}

@anvil.server.http_endpoint("/leak")
def leak():
    return "key=" + anvil.secrets.get_secret("api_key")

@anvil.server.http_endpoint("/image")
def image():
    return anvil.BlobMedia("image/png", b"\\x89PNG\\r\\n\\x1a\\n\\x00\\xff", name="x.png")
"""


@pytest.fixture
def app_config(app_config):
    app_config.update(SMALL_LIMITS, RUN_WALL_SECONDS=8, RUN_CPU_SECONDS=3)
    return app_config


@pytest.fixture
def api(app, alice):
    """A public widget of alice's with the endpoints above; its API root URL."""
    confinement(app)
    widget_id = alice.create_widget("API", server_code=API_CODE, visibility="public")
    add_secret(app, widget_id, "api_key", SECRET)
    return f"/_/api/{widget_id}"


def test_get_with_query_parameters_answers_text(app, api):
    response = app.test_client().get(f"{api}/hello?name=Ann")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "hello Ann"
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


def test_path_parameters_json_and_form_bodies_reach_the_function(app, alice, api):
    # alice's browser sends her session cookie: it must not reach the widget's code.
    got = alice.client.get(f"{api}/items/42?x=1").get_json()
    assert got["id"] == "42" and got["method"] == "GET" and got["query"] == {"x": "1"}
    assert got["path"] == "/items/42" and got["params"] == {"x": "1"}
    assert got["origin"] == f"http://localhost{api}"
    assert got["app"].startswith("http://localhost/widgets/")
    assert got["cookie"] is False and got["ip"] == "127.0.0.1"
    posted = app.test_client().post(f"{api}/items/7", json={"a": [1, 2]}).get_json()
    assert posted["method"] == "POST" and posted["json"] == {"a": [1, 2]}
    form = app.test_client().put(f"{api}/items/8", data={"colour": "red"}).get_json()
    assert form["form"] == {"colour": "red"} and form["params"] == {"colour": "red"}


def test_methods_not_declared_are_refused_without_running(app, api):
    response = app.test_client().delete(f"{api}/items/1")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST, PUT"


def test_http_response_sets_status_and_headers_but_never_cookies(app, api):
    response = app.test_client().get(f"{api}/teapot")
    assert response.status_code == 418
    assert response.headers["X-Kind"] == "teapot"
    assert "Set-Cookie" not in response.headers
    assert response.get_data(as_text=True) == "short and stout"


def test_media_is_answered_as_its_bytes_and_type(app, api):
    response = app.test_client().get(f"{api}/image")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data == b"\x89PNG\r\n\x1a\n\x00\xff"


def test_unknown_paths_and_private_widgets_answer_404(app, alice, api):
    client = app.test_client()
    assert client.get(f"{api}/nothing-here").status_code == 404
    assert client.get("/_/api/no-such-widget/hello").status_code == 404
    private = alice.create_widget("Private API", server_code=API_CODE)
    assert client.get(f"/_/api/{private}/hello").status_code == 404


def _basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_authenticate_users_takes_a_site_account_by_http_basic(app, api):
    client = app.test_client()
    anonymous = client.get(f"{api}/me")
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["WWW-Authenticate"]
    assert client.get(f"{api}/me", headers=_basic("alice", "wrong password")).status_code == 401
    answer = client.get(f"{api}/me", headers=_basic("alice", PASSWORD))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    # The account's password never reaches the widget's code, in any form.
    assert answer.get_json() == {
        "user": {"username": "alice"},
        "password": None,
        "authorization": False,
    }


def test_cors_preflight_and_headers_only_where_enabled(app, api):
    client = app.test_client()
    preflight = client.options(
        f"{api}/cors",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Headers": "X-Api"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-api" in preflight.headers["Access-Control-Allow-Headers"]
    answer = client.get(f"{api}/cors")
    assert answer.get_json() == {"ok": True}
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert client.options(f"{api}/hello").status_code == 405
    assert "Access-Control-Allow-Origin" not in client.get(f"{api}/hello").headers


def test_an_answer_holding_a_secret_is_withheld(app, api):
    response = app.test_client().get(f"{api}/leak")
    assert response.status_code == 500
    assert SECRET not in response.get_data(as_text=True)
    assert WITHHELD in response.get_data(as_text=True)


def test_a_body_over_the_cap_is_refused_before_running(app, api):
    app.config["ENDPOINT_MAX_BYTES"] = 1000
    response = app.test_client().post(f"{api}/items/1", data=json.dumps({"x": "y" * 2000}))
    assert response.status_code == 413


def test_endpoints_are_exempt_from_csrf_and_need_no_log_in(app, api):
    # A POST without any CSRF token or cookie is answered by the code (not refused with 400).
    response = app.test_client().post(f"{api}/hello", data={"name": "Bo"})
    assert response.status_code == 200 and response.get_data(as_text=True) == "hello Bo"


def test_editor_panel_lists_full_urls_and_curl_lines_for_the_owner_only(app, alice, bob, api):
    widget_id = api.rsplit("/", 1)[1]
    panel = alice.client.get(f"/widgets/{widget_id}/endpoints", headers={"HX-Request": "true"})
    html = panel.get_data(as_text=True)
    assert panel.status_code == 200 and "<html" not in html
    assert f"http://localhost/_/api/{widget_id}/items/&lt;item_id&gt;" in html
    assert f"curl -u USERNAME:PASSWORD &#39;http://localhost/_/api/{widget_id}/me&#39;" in html
    assert bob.client.get(f"/widgets/{widget_id}/endpoints").status_code == 404
    editor = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    assert f"/widgets/{widget_id}/endpoints" in editor
