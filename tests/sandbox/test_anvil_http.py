"""anvil.http in widget code, against a loopback "web API" the test starts: parsed JSON, Media
bodies byte for byte, HTTP errors as HttpError, Basic auth, URL encoding, and secrets sent in
headers kept out of output."""

import base64
import http.server
import json
import threading
from typing import ClassVar

import pytest

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.sandbox import runner_for
from tests.sandbox.helpers import ROOMY_LIMITS, add_secret

API_SECRET = "tok-5f1e-never-print-me"


# Every byte value, and bytes that are not UTF-8: a body that must come back exactly.
PICTURE = bytes(range(256)) + b"\x89PNG\r\n\x1a\n\xff\xfe"


class _LoopbackAPI(http.server.BaseHTTPRequestHandler):
    """/forecast: JSON; /echo: the request's headers and body back as JSON; /picture.png:
    binary; /gone: a 410 with a text body; anything else: 404."""

    seen_authorizations: ClassVar[list] = []

    def _answer(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        _LoopbackAPI.seen_authorizations.append(self.headers.get("Authorization"))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path == "/forecast":
            self._answer(200, {"forecast": "sunny", "high": 21})
        elif self.path in ("/picture.png", "/gone"):
            self._answer_bytes(self.path == "/picture.png")
        elif self.path == "/echo":
            self._answer(
                200,
                {
                    "method": self.command,
                    "authorization": self.headers.get("Authorization"),
                    "content_type": self.headers.get("Content-Type"),
                    "body": body,
                },
            )
        else:
            self._answer(404, {"error": "no such page"})

    def _answer_bytes(self, picture: bool) -> None:
        body = PICTURE if picture else b"gone for good"
        self.send_response(200 if picture else 410)
        self.send_header("Content-Type", "image/png" if picture else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def log_message(self, *args):
        pass


@pytest.fixture
def api(app_config):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LoopbackAPI)
    _LoopbackAPI.seen_authorizations = []
    # Runs may reach only allowed addresses once runs get a network namespace of their own.
    app_config.update(ROOMY_LIMITS, RUN_NETWORK_ALLOW=[f"127.0.0.1:{server.server_port}"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def run_code(app, api, make_user):
    """Run `code` as a new widget's server code (with `secrets` set first); the RunResult."""

    def run(code: str, secrets: dict | None = None):
        owner_id = make_user("carol")
        with app.app_context():
            widget = Widget(owner_id=owner_id, title="api", server_code=code)
            db.session.add(widget)
            db.session.commit()
            widget_id = widget.id
        for name, value in (secrets or {}).items():
            add_secret(app, widget_id, name, value)
        with app.app_context():
            return runner_for(app).run(widget_id, code, owner_id, viewer_is_owner=True)

    return run


def test_request_with_json_true_returns_the_parsed_answer(api, run_code):
    result = run_code(
        f"import anvil.http\n"
        f"answer = anvil.http.request('{api}/forecast', json=True)\n"
        f"print(type(answer).__name__, answer['forecast'], answer['high'] + 1)\n"
    )
    assert result.ok, result.error
    assert result.stdout == "dict sunny 22\n"


def test_request_without_json_returns_media_with_the_body(api, run_code):
    result = run_code(
        f"import anvil, anvil.http\nanswer = anvil.http.request('{api}/forecast')\n"
        "print(isinstance(answer, anvil.Media), answer.content_type, answer.get_bytes())\n"
    )
    assert result.ok, result.error
    assert result.stdout == """True application/json b'{"forecast": "sunny", "high": 21}'\n"""


def test_a_binary_body_comes_back_byte_for_byte(api, run_code):
    result = run_code(
        f"import anvil.http\npicture = anvil.http.request('{api}/picture.png')\n"
        "print(picture.get_bytes().hex(), picture.length, picture.content_type, picture.name)\n"
    )
    assert result.ok, result.error
    assert result.stdout == f"{PICTURE.hex()} {len(PICTURE)} image/png picture.png\n"


def test_an_error_without_json_carries_its_body_as_media(api, run_code):
    result = run_code(
        f"""
import anvil.http
try:
    anvil.http.request('{api}/gone')
except anvil.http.HttpError as error:
    print(error.status, error.content.get_bytes(), error.content.content_type)
"""
    )
    assert result.ok, result.error
    assert result.stdout == "410 b'gone for good' text/plain\n"


def test_not_found_raises_http_error_with_status_and_content(api, run_code):
    result = run_code(
        f"""
import anvil.http
try:
    anvil.http.request('{api}/missing', json=True)
except anvil.http.HttpError as error:
    print(error.status, error.content, error)
"""
    )
    assert result.ok, result.error
    assert result.stdout == "404 {'error': 'no such page'} HTTP error 404\n"


def test_uncaught_http_error_is_reported_as_the_runs_error(api, run_code):
    result = run_code(f"import anvil.http\nanvil.http.request('{api}/missing')\n")
    assert result.error["type"] == "HttpError"
    assert result.error["message"] == "HTTP error 404"


def test_post_with_json_true_sends_json_and_basic_auth(api, run_code):
    result = run_code(
        f"""
import anvil.http
echo = anvil.http.request(
    '{api}/echo', method='post', data={{'city': 'Oslo'}}, json=True,
    username='ada', password='pw',
)
print(echo['method'], echo['content_type'], echo['body'])
"""
    )
    assert result.ok, result.error
    assert result.stdout == 'POST application/json {"city": "Oslo"}\n'
    assert _LoopbackAPI.seen_authorizations == ["Basic " + base64.b64encode(b"ada:pw").decode()]


def test_secret_sent_in_a_header_reaches_the_api_but_never_the_output(api, run_code):
    code = f"""
import anvil.http
import anvil.secrets
token = anvil.secrets.get_secret('api_token')
echo = anvil.http.request('{api}/echo', headers={{'Authorization': 'Bearer ' + token}}, json=True)
print(echo)
anvil.http.request('{api}/missing', headers={{'Authorization': token}})
"""
    result = run_code(code, secrets={"api_token": API_SECRET})
    assert _LoopbackAPI.seen_authorizations == [f"Bearer {API_SECRET}", API_SECRET]
    assert "'authorization': 'Bearer ***'" in result.stdout
    assert result.error["type"] == "HttpError"
    everything = json.dumps(result.as_json())
    assert API_SECRET not in everything


def test_unreachable_server_raises_http_request_failed(run_code):
    result = run_code(
        """
import anvil.http
try:
    anvil.http.request('http://127.0.0.1:9/', timeout=1)
except anvil.http.HttpRequestFailed as error:
    print('failed:', str(error).split(':')[0])
"""
    )
    assert result.stdout == "failed: The request to http\n"


def test_url_encode_and_decode_round_trip_like_anvils(run_code):
    result = run_code(
        """
import anvil.http
encoded = anvil.http.url_encode('a b&c=d/é~_.-')
print(encoded)
print(anvil.http.url_decode(encoded))
try:
    anvil.http.url_decode('100%')
except anvil.http.UrlEncodingError as error:
    print(error)
"""
    )
    assert result.ok, result.error
    assert result.stdout == (
        "a%20b%26c%3Dd%2F%C3%A9~_.-\na b&c=d/é~_.-\nThis is not a valid URL-encoded string\n"
    )


def test_runs_that_do_not_use_anvil_http_do_not_load_requests(run_code):
    result = run_code("import sys\nimport anvil.http\nprint('requests' in sys.modules)\n")
    assert result.stdout == "False\n"
