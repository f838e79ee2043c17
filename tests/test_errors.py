"""Error pages in the site's style; fragments for htmx; no internals leaked."""

import pytest


def test_not_found_page_is_in_the_site_style(client):
    response = client.get("/no/such/page")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert 'class="error-status">404<' in body and "Not found" in body
    assert 'class="site-header"' in body and "app.css" in body


def test_htmx_errors_are_fragments_for_the_toast(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" not in body and "Not found" in body
    assert "HX-Request" in response.headers["Vary"]


@pytest.fixture
def failing_app(app_config):
    from pyspace import create_app
    from pyspace.extensions import db

    app_config["PROPAGATE_EXCEPTIONS"] = False  # serve the 500 page as production would
    app = create_app(app_config)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: /srv/pyspace/key")

    with app.app_context():
        db.create_all()
    return app


def test_server_error_page_hides_the_details(failing_app):
    response = failing_app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body and 'class="site-header"' in body
    assert "secret internals" not in body and "Traceback" not in body


def test_wrong_method_is_405_in_the_site_style(client):
    response = client.get("/logout")
    assert response.status_code == 405 and "Not allowed" in response.get_data(as_text=True)


def test_missing_csrf_token_explains_what_to_do(client):
    response = client.post("/login", data={"username": "alice", "password": "whatever pw"})
    assert response.status_code == 400
    assert "Reload the page and try again." in response.get_data(as_text=True)


def test_oversized_request_is_413(alice):
    response = alice.post(
        "/widgets/new", {"title": "big", "kind": "script", "pad": "x" * (3 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert "larger than the site accepts" in response.get_data(as_text=True)


def test_unavailable_page_has_a_503_title(alice, monkeypatch):
    from pyspace.secrets import routes
    from pyspace.secrets.changes import SecretChangeError

    def busy(widget, actor_id):
        raise SecretChangeError("Could not create a secret right now. Please try again.")

    widget_id = alice.create_widget("Busy")
    monkeypatch.setattr(routes, "create_secret", busy)
    response = alice.post(f"/widgets/{widget_id}/secrets")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "<title>Service unavailable" in body and 'class="error-status">503<' in body
    assert "Something went wrong" not in body
    assert "Could not create a secret right now" in body
