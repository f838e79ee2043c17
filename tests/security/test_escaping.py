"""User text with `<script>` and attribute-breaking payloads is escaped on every page that shows it.

Titles, descriptions, code and HTML, secret descriptions, rejected secret names and usernames,
`.env` import previews and their per-line errors, reflected query strings and error pages: the
raw payload never reaches a response as markup (the GUI frame gets the widget's HTML as JSON data).
"""

import pytest

from pyspace.extensions import db
from pyspace.models import Secret
from tests.sandbox.helpers import ROOMY_LIMITS

SCRIPT = '<script>alert("pwned")</script>'
ATTRIBUTE = '" autofocus onfocus="alert(1)" x="'
PAYLOAD = SCRIPT + ATTRIBUTE
HX = {"HX-Request": "true"}


def assert_escaped(body: str, where: str):
    assert SCRIPT not in body, where
    assert ATTRIBUTE not in body, where
    assert 'onfocus="alert' not in body, where


@pytest.fixture
def widget(app, alice):
    """A public GUI widget with the payload in every text field and a secret's description."""
    widget_id = alice.create_widget("T", "gui")
    alice.save_widget(
        widget_id,
        title=PAYLOAD[:100],
        description=PAYLOAD,
        server_code=PAYLOAD,
        client_code=PAYLOAD,
        html=PAYLOAD,
        visibility="public",
    )
    alice.post(f"/widgets/{widget_id}/secrets", htmx=True)
    with app.app_context():
        secret_id = db.session.scalar(db.select(Secret.id).filter_by(widget_id=widget_id))
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details",
        {"description": PAYLOAD, "required": "y"},
        htmx=True,
    )
    assert response.status_code == 200
    return widget_id, secret_id


OWNER_PAGES = [
    "/",
    "/u/alice",
    "/widgets/{w}",
    "/widgets/{w}/edit",
    "/widgets/{w}/frame",
    "/widgets/{w}/secrets",
    "/widgets/{w}/secrets/{s}",
    "/widgets/{w}/secrets/{s}/edit/details",
    "/widgets/{w}/secrets/{s}/delete",
    "/widgets/{w}/secrets/audit",
    "/widgets/{w}/needs-values",
    "/widgets/{w}/secrets/import",
]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("path", OWNER_PAGES)
def test_widget_and_secret_text_is_escaped_for_the_owner(widget, alice, path, htmx):
    widget_id, secret_id = widget
    response = alice.client.get(path.format(w=widget_id, s=secret_id), headers=HX if htmx else {})
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True), path)


@pytest.mark.parametrize("path", ["/", "/u/alice", "/widgets/{w}", "/widgets/{w}/frame"])
def test_widget_text_is_escaped_for_visitors(widget, make_client, path):
    body = make_client().client.get(path.format(w=widget[0])).get_data(as_text=True)
    assert_escaped(body, path)
    assert "&lt;script&gt;" in body or "\\u003cscript\\u003e" in body  # shown as text or JSON data


def test_the_fork_of_a_widget_escapes_its_lineage_and_copied_text(widget, make_client):
    bob = make_client()
    assert bob.register("bob").status_code == 302
    response = bob.post(f"/widgets/{widget[0]}/fork")
    fork_id = response.headers["Location"].rstrip("/").split("/")[-2]
    for path in (f"/widgets/{fork_id}/edit", f"/widgets/{fork_id}", f"/widgets/{fork_id}/secrets"):
        assert_escaped(bob.client.get(path).get_data(as_text=True), path)


@pytest.fixture
def small_limits(app_config):
    app_config.update(ROOMY_LIMITS)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_run_output_and_errors_are_escaped(small_limits, alice, make_client, htmx):
    code = (
        f"import sys\nprint({SCRIPT!r})\nprint({ATTRIBUTE!r}, file=sys.stderr)\n"
        f"raise ValueError({PAYLOAD!r})\n"
    )
    widget_id = alice.create_widget("Loud", server_code=code, visibility="public")
    for runner in (alice, make_client()):
        response = runner.post(f"/widgets/{widget_id}/run", htmx=htmx)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "ValueError" in body
        assert_escaped(body, "run result")
        assert "&lt;script&gt;" in body


def test_rejected_secret_name_is_escaped_next_to_the_row(widget, alice):
    widget_id, secret_id = widget
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/name", {"name": PAYLOAD}, htmx=True
    )
    assert response.status_code == 422
    assert_escaped(response.get_data(as_text=True), "rename error")


@pytest.mark.parametrize("step", ["preview", "apply"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_dotenv_import_preview_and_line_errors_are_escaped(widget, alice, step, htmx):
    text = f"GOOD_NAME={PAYLOAD}\n{PAYLOAD}=1\nexport {ATTRIBUTE}\n# {SCRIPT}\n"
    response = alice.post(
        f"/widgets/{widget[0]}/secrets/import", {"dotenv": text, "step": step}, htmx=htmx
    )
    assert response.status_code == 422  # the bad lines refuse the whole file
    assert_escaped(response.get_data(as_text=True), "import")


def test_rejected_username_is_escaped_on_the_form(client, accounts):
    response = accounts.register(PAYLOAD[:30])
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True), "register")


@pytest.mark.parametrize(
    "path",
    [
        "/login?next=" + PAYLOAD,
        "/?page=" + PAYLOAD,
        "/u/" + PAYLOAD,
        "/widgets/" + PAYLOAD,
        "/widgets/" + PAYLOAD + "/frame",
        "/no-such-page/" + PAYLOAD,
    ],
)
def test_reflected_request_text_and_error_pages_are_escaped(client, path):
    response = client.get(path)
    assert response.status_code in (200, 400, 404)  # ?page=<text> is a 400 that names it
    assert_escaped(response.get_data(as_text=True), path)


def test_escaped_title_still_reads_as_the_author_wrote_it(widget, make_client):
    """Escaping keeps the text: the visitor sees the payload as plain characters."""
    body = make_client().client.get(f"/widgets/{widget[0]}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in body
