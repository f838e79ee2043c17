"""Security headers, cookie flags, and the template rules that let the CSP stay strict."""

import re
from pathlib import Path

import pytest

from pyspace import create_app
from pyspace.security_headers import MAIN_CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[2]


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP header value as {directive: [sources]}."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.fixture
def gui_widget(alice):
    return alice.create_widget("Greeter", "gui", visibility="public")


def main_site_responses(client, alice, widget_id):
    """(label, response) for full pages, fragments, JSON and error pages of the main site."""
    htmx = {"HX-Request": "true"}
    yield "home", client.get("/")
    yield "public page", client.get(f"/widgets/{widget_id}")
    yield "editor", client.get(f"/widgets/{widget_id}/edit")
    yield "secrets panel fragment", client.get(f"/widgets/{widget_id}/secrets", headers=htmx)
    yield "404 page", client.get("/widgets/no-such-widget")
    yield "csrf refusal", client.post(f"/widgets/{widget_id}/delete")
    yield "static file", client.get("/static/css/app.css")


def test_main_site_responses_carry_the_security_headers(client, alice, gui_widget):
    for label, response in main_site_responses(client, alice, gui_widget):
        headers = response.headers
        assert headers["Content-Security-Policy"] == MAIN_CONTENT_SECURITY_POLICY, label
        assert headers["X-Content-Type-Options"] == "nosniff", label
        assert headers["Referrer-Policy"] == "same-origin", label
        assert headers["X-Frame-Options"] == "DENY", label
        assert "Strict-Transport-Security" not in headers, label  # plain HTTP on one machine


def test_main_site_policy_allows_no_inline_script_no_eval_no_plugins_and_no_framing():
    policy = directives(MAIN_CONTENT_SECURITY_POLICY)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]  # htmx runs with allowEval off
    assert "'wasm-unsafe-eval'" not in policy["script-src"]  # Pyodide runs in the frame only
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["frame-src"] == ["'self'"]  # the site embeds its own GUI widget frames
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]


def test_gui_frame_keeps_its_own_policy_and_stays_framable_by_the_site(client, gui_widget):
    response = client.get(f"/widgets/{gui_widget}/frame")
    assert response.status_code == 200
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["sandbox"] == ["allow-scripts", "allow-downloads"]
    assert policy["frame-ancestors"] == ["http://localhost"]
    assert "'wasm-unsafe-eval'" in policy["script-src"]
    assert (
        "'unsafe-eval'" not in policy["script-src"]
        and "'unsafe-inline'" not in policy["script-src"]
    )
    assert policy["default-src"] == ["'none'"]
    # X-Frame-Options would forbid the site's own <iframe>; frame-ancestors says who may frame it.
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_templates_have_no_inline_script_code_and_no_event_handler_attributes():
    """What lets script-src stay free of 'unsafe-inline': every script is a file in static/."""
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            # JSON data blocks are not executed; every other script names its file.
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), f"{template.name}: inline event handler"
        assert not re.search(r"\bhx-on\b|hx-on:|hx-on-|=\s*['\"]js:|javascript:", text), (
            template.name
        )


def test_no_template_or_module_turns_off_escaping():
    """`|safe`, `Markup(` and `autoescape false` would let user text become HTML."""
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        assert not re.search(r"\|\s*safe\b|autoescape\s+false", text), path.name
    for path in sorted((ROOT / "pyspace").rglob("*.py")):
        text = path.read_text()
        assert "Markup(" not in text and "render_template_string" not in text, path.name


def cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_session_and_remember_cookies_are_http_only_and_same_site_lax(alice, make_client):
    visitor = make_client()
    response = visitor.login("alice", remember=True)
    assert response.status_code == 302
    sent = cookies(response)
    for name in ("session", "remember_token"):
        assert "HttpOnly" in sent[name], name
        assert "SameSite=Lax" in sent[name], name
        assert "Secure" not in sent[name], name  # plain HTTP on one machine by default


def test_secure_cookies_for_https_deployments_cover_the_remember_cookie(app_config, monkeypatch):
    monkeypatch.setenv("PYSPACE_SESSION_COOKIE_SECURE", "true")
    app = create_app(app_config)
    from pyspace.extensions import db
    from tests.conftest import Accounts

    with app.app_context():
        db.create_all()
    assert Accounts(app.test_client()).register("alice").status_code == 302
    response = Accounts(app.test_client()).login("alice", remember=True)
    sent = cookies(response)
    assert "Secure" in sent["session"] and "Secure" in sent["remember_token"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
