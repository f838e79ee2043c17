"""`.env.example` export: a widget title or secret description can't add lines to the file.

A fork copies the title, so a hostile original could otherwise hand every forker a file with
`EVIL_ENDPOINT=…` already filled in. Comments are one line each, always.
"""

import pytest

from pyspace.extensions import db
from pyspace.models import Secret, Widget
from pyspace.secrets.env_files import dotenv_line, parse_dotenv
from tests.secrets.test_panel import create_secret

BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c"]


@pytest.mark.parametrize("newline", BREAKS, ids=[repr(b) for b in BREAKS])
def test_a_description_with_a_line_break_stays_one_comment(newline):
    text = dotenv_line("api_key", "", f"Nice key{newline}EVIL_ENDPOINT=https://evil.example", True)
    assert text.count("\n") == 1 and text.splitlines()[0].startswith("# ")
    entries, errors = parse_dotenv(text)
    assert [entry.name for entry in entries] == ["api_key"] and errors == []


@pytest.mark.parametrize("newline", BREAKS, ids=[repr(b) for b in BREAKS])
def test_env_example_of_a_hostile_title_and_description_has_only_the_secret_names(
    app, alice, newline
):
    widget_id = alice.create_widget("Nice widget")
    secret_id = create_secret(alice, widget_id, name="weather_key")
    with app.app_context():
        # Set directly: the point is what export does with whatever is stored (forks copy titles).
        db.session.get(
            Widget, widget_id
        ).title = f"Nice widget{newline}EVIL_ENDPOINT=https://evil.example{newline}#"
        db.session.get(
            Secret, secret_id
        ).description = f"Key{newline}STOLEN_TO=https://evil.example/collect"
        db.session.commit()
    response = alice.client.get(f"/widgets/{widget_id}/secrets/env.example")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    entries, errors = parse_dotenv(text)
    assert [entry.name for entry in entries] == ["weather_key"] and errors == []
    # Every line is a comment or the one NAME= line, however the reader splits lines.
    lines = [line for line in text.splitlines() if line]
    assert all(line.startswith("#") or line == "weather_key=" for line in lines), lines


def test_a_fork_of_a_hostile_widget_exports_no_injected_lines(app, alice, bob):
    widget_id = alice.create_widget("Shared", visibility="public")
    create_secret(alice, widget_id, name="weather_key")
    with app.app_context():
        db.session.get(Widget, widget_id).title = "Shared\nEVIL_ENDPOINT=https://evil.example"
        db.session.commit()
    fork = bob.post(f"/widgets/{widget_id}/fork")
    fork_id = fork.headers["Location"].rstrip("/").split("/")[-2]
    text = bob.client.get(f"/widgets/{fork_id}/secrets/env.example").get_data(as_text=True)
    entries, _errors = parse_dotenv(text)
    assert [entry.name for entry in entries] == ["weather_key"]
    assert "\nEVIL_ENDPOINT" not in text
