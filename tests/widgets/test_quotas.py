"""Per-account quotas: widgets, bytes of code, secrets per widget — clear errors at the limit."""

import pytest

from tests.secrets.test_panel import create_secret


@pytest.fixture
def small_quotas(app_config):
    app_config.update(QUOTA_WIDGETS=3, QUOTA_CODE_BYTES=20_000, QUOTA_SECRETS_PER_WIDGET=2)


def test_the_widget_quota_refuses_one_more_with_a_clear_message(small_quotas, app, alice):
    for n in range(3):
        alice.create_widget(f"w{n}")
    response = alice.post("/widgets/new", {"title": "One too many", "kind": "script"})
    assert response.status_code == 422
    assert "the most one account can have here (3)" in response.get_data(as_text=True)


def test_the_code_quota_refuses_a_save_and_keeps_the_old_code(small_quotas, app, alice):
    widget_id = alice.create_widget("Big")
    big = "x = 1\n" * 4000  # 24,000 bytes
    response = alice.post(
        f"/widgets/{widget_id}/edit",
        {"title": "Big", "description": "", "visibility": "private", "server_code": big},
    )
    assert response.status_code == 422
    assert "one account can keep at most" in response.get_data(as_text=True)
    assert big not in alice.client.get(f"/widgets/{widget_id}").get_data(as_text=True)


def test_the_code_quota_counts_every_widget_of_the_account(small_quotas, app, alice):
    first = alice.create_widget("First")
    alice.save_widget(first, server_code="a = 1\n" * 3000)  # 18,000 bytes
    second = alice.create_widget("Second")
    response = alice.post(
        f"/widgets/{second}/edit",
        {
            "title": "Second",
            "description": "",
            "visibility": "private",
            "server_code": "b\n" * 2000,
        },
    )
    assert response.status_code == 422


def test_forking_counts_against_the_forkers_quota(small_quotas, app, alice, bob):
    original = alice.create_widget("Shared", visibility="public")
    for n in range(3):
        bob.create_widget(f"b{n}")
    response = bob.post(f"/widgets/{original}/fork")
    assert response.status_code == 302
    page = bob.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not forked" in page and "the most one account can have here (3)" in page


def test_the_secrets_quota_refuses_another_secret_and_an_import(small_quotas, app, alice):
    widget_id = alice.create_widget("Keys")
    create_secret(alice, widget_id)
    create_secret(alice, widget_id)
    response = alice.post(f"/widgets/{widget_id}/secrets", htmx=True)
    assert "A widget can have at most 2 secrets" in response.get_data(as_text=True)
    imported = alice.post(
        f"/widgets/{widget_id}/secrets/import",
        {"dotenv": "EXTRA=1\n", "step": "apply"},
        htmx=True,
    )
    assert "A widget can have at most 2 secrets" in imported.get_data(as_text=True)


def test_twenty_widgets_of_480_kb_stop_at_the_default_code_quota(app, alice):
    """The reported attack: 20 widgets of 480 KB each from one client grew the database by
    11.7 MB. With the default quota (5 MiB) the saves past it are refused."""
    from pyspace.extensions import db
    from pyspace.models import Widget

    chunk = "# filler\n" * (160_000 // 9)  # ~160 KB per field, three fields: ~480 KB a widget
    statuses = []
    for n in range(20):
        widget_id = alice.create_widget(f"Filler {n}", "gui")
        statuses.append(
            alice.post(
                f"/widgets/{widget_id}/edit",
                {
                    "title": f"Filler {n}",
                    "description": "",
                    "visibility": "private",
                    "server_code": chunk,
                    "client_code": chunk,
                    "html": chunk,
                },
            ).status_code
        )
    assert statuses.count(302) == 10 and statuses[10:] == [422] * 10
    with app.app_context():
        stored = sum(
            len(w.server_code) + len(w.client_code) + len(w.html)
            for w in db.session.scalars(db.select(Widget))
        )
    assert stored <= app.config["QUOTA_CODE_BYTES"]
