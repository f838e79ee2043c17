"""Forking: the fork gets everything but the secret values."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from pyspace import audit
from pyspace.extensions import db
from pyspace.forks.forking import fork_widget
from pyspace.models import AuditEvent, Run, Secret, User, Widget
from pyspace.secrets import vault

# (name, value, description, required, write_only) — names use every allowed character,
# the longest allowed length, case-sensitive twins, and an order that is not alphabetical.
ORIGINAL_SECRETS = [
    ("zeta_comes_first", "VALUE-zeta-3f9a1c", "", False, False),
    ("API_KEY", "VALUE-upper-8e2b7d", "Key for the weather API", True, False),
    ("api_key", "VALUE-lower-c41d09", "", False, True),
    ("_", "VALUE-underscore-77aa01", "", False, False),
    (
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz_0123456789",
        "VALUE-long-5b6e2f",
        "Every allowed character",
        False,
        False,
    ),
    ("left_blank", None, "Nobody set this one", True, False),
    ("x9", "VALUE-x9-0d0d0d", "", False, False),
]
VALUES = [value for _, value, *_ in ORIGINAL_SECRETS if value]
ORIGINAL_CODE = "import anvil.secrets\nprint('weather:', anvil.secrets.get_secret('API_KEY'))\n"


def add_secrets(app, widget_id, secrets=ORIGINAL_SECRETS):
    """Store secrets straight in the database, with the traces of use a fork must not copy."""
    with app.app_context():
        owner_id = db.session.get(Widget, widget_id).owner_id
        for name, value, description, required, write_only in secrets:
            db.session.add(
                Secret(
                    widget_id=widget_id,
                    name=name,
                    description=description,
                    required=required,
                    write_only=write_only,
                    ciphertext=vault.encrypt_value(value) if value else None,
                    fingerprint=vault.fingerprint(value) if value else None,
                    value_changed_at=datetime(2026, 1, 1) if value else None,
                    last_viewed_at=datetime(2026, 1, 2) if value else None,
                    last_used_at=datetime(2026, 1, 3) if value else None,
                )
            )
            audit.record(widget_id, owner_id, "create", name)
        db.session.commit()


def ciphertexts(app, widget_id) -> list[str]:
    with app.app_context():
        return [
            row.decode()
            for row in db.session.scalars(
                db.select(Secret.ciphertext).filter_by(widget_id=widget_id)
            )
            if row
        ]


def secrets_of(app, widget_id) -> list[Secret]:
    with app.app_context():
        secrets = db.session.scalars(
            db.select(Secret).filter_by(widget_id=widget_id).order_by(Secret.id)
        ).all()
        db.session.expunge_all()
        return secrets


def widget_row(app, widget_id) -> Widget | None:
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        db.session.expunge_all()
        return widget


@pytest.fixture
def original(app, alice):
    """Alice's public script widget with seven secrets, one of them blank."""
    widget_id = alice.create_widget(
        "Weather",
        description="Today's weather, using a secret key",
        server_code=ORIGINAL_CODE,
        visibility="public",
    )
    add_secrets(app, widget_id)
    return widget_id


def fork_as(accounts, widget_id) -> str:
    """Fork through the route and return the fork's id (from the redirect to its editor)."""
    response = accounts.post(f"/widgets/{widget_id}/fork")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/edit")
    return response.headers["Location"].rstrip("/").split("/")[-2]


def test_fork_copies_the_contents_and_starts_private_for_the_forker(app, original, bob):
    fork_id = fork_as(bob, original)
    source, fork = widget_row(app, original), widget_row(app, fork_id)
    assert fork_id != original
    for field in ("title", "description", "kind", "server_code", "client_code", "html"):
        assert getattr(fork, field) == getattr(source, field)
    assert fork.server_code == ORIGINAL_CODE
    assert fork.visibility == "private"
    with app.app_context():
        assert db.session.get(User, fork.owner_id).username == "bob"
    assert (fork.forked_from_id, fork.forked_from_title, fork.forked_from_owner) == (
        original,
        "Weather",
        "alice",
    )


def test_fork_copies_gui_code_html_and_client_python(app, alice, bob):
    widget_id = alice.create_widget(
        "Counter",
        kind="gui",
        visibility="public",
        client_code="print('client')\n",
        html="<p id='n'>0</p>",
        server_code="def add(n):\n    return n + 1\n",
        client_python="micropython",
    )
    fork = widget_row(app, fork_as(bob, widget_id))
    assert (fork.kind, fork.client_code, fork.html, fork.client_python) == (
        "gui",
        "print('client')\n",
        "<p id='n'>0</p>",
        "micropython",
    )


def test_fork_keeps_secret_names_in_order_but_blanks_values(app, original, bob):
    fork_id = fork_as(bob, original)
    copied = secrets_of(app, fork_id)
    assert [(s.name, s.description, s.required, s.write_only) for s in copied] == [
        (name, description, required, write_only)
        for name, _, description, required, write_only in ORIGINAL_SECRETS
    ]
    for secret in copied:
        assert secret.ciphertext is None and secret.is_blank
        assert secret.fingerprint is None
        assert (secret.value_changed_at, secret.last_viewed_at, secret.last_used_at) == (
            None,
            None,
            None,
        )


def test_fork_decrypts_nothing_and_copies_no_audit_rows(app, original, bob, decryptions):
    before = decryptions.count
    fork_id = fork_as(bob, original)
    assert decryptions.count == before
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count()).select_from(AuditEvent).filter_by(widget_id=fork_id)
            )
            == 0
        )
        assert db.session.scalar(
            db.select(db.func.count()).select_from(AuditEvent).filter_by(widget_id=original)
        ) == len(ORIGINAL_SECRETS)


def test_fork_leaves_the_original_untouched(app, original, bob):
    before = [(s.id, s.name, s.ciphertext, s.last_used_at) for s in secrets_of(app, original)]
    fork_as(bob, original)
    assert [
        (s.id, s.name, s.ciphertext, s.last_used_at) for s in secrets_of(app, original)
    ] == before


@pytest.mark.parametrize(
    "visibility, who, outcome",
    [
        ("public", "owner", "editor"),
        ("public", "other", "editor"),
        ("public", "anonymous", "login"),
        ("private", "owner", "editor"),
        ("private", "other", 404),
        ("private", "anonymous", 404),
    ],
)
def test_who_may_fork(app, alice, make_client, visibility, who, outcome):
    widget_id = alice.create_widget("Mine", visibility=visibility)
    add_secrets(app, widget_id)
    visitor = {
        "owner": lambda: alice,
        "other": lambda: _registered(make_client(), "carol"),
        "anonymous": make_client,
    }[who]()
    with app.app_context():
        widgets_before = db.session.scalar(db.select(db.func.count()).select_from(Widget))
    response = visitor.post(f"/widgets/{widget_id}/fork")
    with app.app_context():
        created = db.session.scalar(db.select(db.func.count()).select_from(Widget)) - widgets_before
    if outcome == 404:
        assert response.status_code == 404
        assert b"Mine" not in response.data
        assert created == 0
    elif outcome == "login":
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next=/widgets/{widget_id}"
        assert created == 0
    else:
        assert response.status_code == 302 and response.headers["Location"].endswith("/edit")
        assert created == 1


def _registered(accounts, username):
    assert accounts.register(username).status_code == 302
    return accounts


def test_forking_a_missing_widget_is_404(bob):
    assert bob.post("/widgets/no-such-widget/fork").status_code == 404


def test_fork_by_htmx_redirects_with_hx_redirect(app, original, bob):
    response = bob.post(f"/widgets/{original}/fork", htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith("/edit")


def test_anonymous_visitor_logs_in_and_comes_back_to_fork(app, original, make_client):
    visitor = make_client()
    page = visitor.client.get(f"/widgets/{original}").get_data(as_text=True)
    assert f'href="/login?next=/widgets/{original}"' in page
    assert "Log in to fork" in page
    _registered(visitor, "dave")
    visitor.logout()
    token = visitor.csrf_token()
    response = visitor.client.post(
        f"/login?next=/widgets/{original}",
        data={"username": "dave", "password": "correct horse battery", "csrf_token": token},
    )
    assert response.headers["Location"] == f"/widgets/{original}"
    back = visitor.client.get(f"/widgets/{original}").get_data(as_text=True)
    assert f'action="/widgets/{original}/fork"' in back
    fork_as(visitor, original)


@pytest.mark.parametrize("who", ["owner", "other"])
def test_public_page_shows_a_fork_button_to_everyone_who_can_see_it(original, alice, bob, who):
    visitor = alice if who == "owner" else bob
    page = visitor.client.get(f"/widgets/{original}").get_data(as_text=True)
    assert f'action="/widgets/{original}/fork"' in page
    assert ">Fork</button>" in page


def test_fork_page_shows_lineage_and_original_counts_forks(app, original, alice, bob, make_client):
    fork_id = fork_as(bob, original)
    page = bob.client.get(f"/widgets/{fork_id}").get_data(as_text=True)
    assert "Forked from" in page
    assert f'<a href="/widgets/{original}">Weather</a>' in page
    assert 'by <a href="/u/alice">alice</a>' in page
    assert "Forked 1 time" in alice.client.get(f"/widgets/{original}").get_data(as_text=True)
    fork_as(_registered(make_client(), "erin"), original)
    assert "Forked 2 times" in alice.client.get(f"/widgets/{original}").get_data(as_text=True)
    assert 'class="fork-count"' not in bob.client.get(f"/widgets/{fork_id}").get_data(as_text=True)


@pytest.mark.parametrize("change", ["made private", "deleted"])
def test_lineage_survives_the_original_going_away_without_a_link(app, original, alice, bob, change):
    fork_id = fork_as(bob, original)
    if change == "deleted":
        assert alice.post(f"/widgets/{original}/delete").status_code == 302
    else:
        alice.save_widget(original, visibility="private")
    page = bob.client.get(f"/widgets/{fork_id}").get_data(as_text=True)
    assert "Forked from" in page
    assert "Weather" in page and "alice" in page
    assert f'href="/widgets/{original}"' not in page
    assert "no longer available" in page


def test_owner_still_sees_the_link_to_their_own_private_original(app, alice):
    widget_id = alice.create_widget("Private thing")
    fork_id = fork_as(alice, widget_id)
    page = alice.client.get(f"/widgets/{fork_id}").get_data(as_text=True)
    assert f'<a href="/widgets/{widget_id}">Private thing</a>' in page


def test_fork_of_a_fork_names_its_direct_parent(app, original, bob, make_client):
    fork_id = fork_as(bob, original)
    bob.save_widget(fork_id, visibility="public", title="Weather, bob's way")
    carol = _registered(make_client(), "carol")
    grandchild = widget_row(app, fork_as(carol, fork_id))
    assert (grandchild.forked_from_id, grandchild.forked_from_owner) == (fork_id, "bob")
    assert [s.name for s in secrets_of(app, grandchild.id)] == [s[0] for s in ORIGINAL_SECRETS]


def test_changes_to_the_fork_never_touch_the_original(app, original, bob):
    fork_id = fork_as(bob, original)
    before_widget = widget_row(app, original)
    before_secrets = [
        (s.id, s.name, s.ciphertext, s.description) for s in secrets_of(app, original)
    ]
    bob.save_widget(
        fork_id,
        title="Renamed",
        server_code="print('mine')\n",
        visibility="public",
        description="bob's",
    )
    with app.app_context():
        copied = db.session.scalars(
            db.select(Secret).filter_by(widget_id=fork_id).order_by(Secret.id)
        ).all()
        copied[0].ciphertext = vault.encrypt_value("bobs-own-value")
        copied[1].name = "RENAMED"
        copied[2].description = "changed"
        db.session.delete(copied[3])
        db.session.commit()
    assert bob.post(f"/widgets/{fork_id}/delete").status_code == 302
    after_widget = widget_row(app, original)
    for field in ("title", "description", "server_code", "visibility", "updated_at"):
        assert getattr(after_widget, field) == getattr(before_widget, field)
    assert [
        (s.id, s.name, s.ciphertext, s.description) for s in secrets_of(app, original)
    ] == before_secrets


def test_changes_to_the_original_never_touch_the_fork(app, original, alice, bob):
    fork_id = fork_as(bob, original)
    before_widget = widget_row(app, fork_id)
    before_secrets = [(s.id, s.name, s.ciphertext, s.description) for s in secrets_of(app, fork_id)]
    alice.save_widget(original, title="Changed", server_code="print('changed')\n")
    with app.app_context():
        source = db.session.scalars(
            db.select(Secret).filter_by(widget_id=original).order_by(Secret.id)
        ).all()
        source[5].ciphertext = vault.encrypt_value("now-set")
        source[0].name = "renamed_in_original"
        db.session.commit()
    assert alice.post(f"/widgets/{original}/delete").status_code == 302
    after_widget = widget_row(app, fork_id)
    for field in ("title", "description", "server_code", "visibility", "updated_at"):
        assert getattr(after_widget, field) == getattr(before_widget, field)
    assert [
        (s.id, s.name, s.ciphertext, s.description) for s in secrets_of(app, fork_id)
    ] == before_secrets


def test_fork_editor_lists_the_secrets_still_needing_values(app, original, bob):
    fork_id = fork_as(bob, original)
    editor = bob.client.get(f"/widgets/{fork_id}/edit").get_data(as_text=True)
    box = editor.split('id="needs-values"')[1].split("</ul>")[0]
    assert "7 secrets still need a value" in box
    for name, *_ in ORIGINAL_SECRETS:
        assert f"<code>{name}</code>" in box
    assert f'hx-get="/widgets/{fork_id}/secrets"' in editor
    assert 'hx-target="#secrets-panel"' in editor
    assert 'hx-trigger="secretsChanged from:body"' in editor


def test_needs_values_box_shrinks_as_values_are_set(app, original, bob):
    fork_id = fork_as(bob, original)
    with app.app_context():
        for secret in db.session.scalars(db.select(Secret).filter_by(widget_id=fork_id)):
            if secret.name != "api_key":
                secret.ciphertext = vault.encrypt_value("set by bob")
        db.session.commit()
    box = bob.client.get(f"/widgets/{fork_id}/needs-values", headers={"HX-Request": "true"})
    assert box.status_code == 200
    assert box.headers["Cache-Control"] == "no-store"
    text = box.get_data(as_text=True)
    assert "1 secret still needs a value" in text and "<code>api_key</code>" in text
    assert "<html" not in text
    with app.app_context():
        db.session.execute(
            db.update(Secret)
            .filter_by(widget_id=fork_id)
            .values(ciphertext=vault.encrypt_value("all set"))
        )
        db.session.commit()
    text = bob.client.get(f"/widgets/{fork_id}/needs-values").get_data(as_text=True)
    assert 'id="needs-values"' in text and "still need" not in text


@pytest.mark.parametrize("who", ["other", "anonymous"])
def test_needs_values_list_is_owner_only(app, original, bob, make_client, who):
    fork_id = fork_as(bob, original)
    visitor = _registered(make_client(), "carol") if who == "other" else make_client()
    response = visitor.client.get(f"/widgets/{fork_id}/needs-values")
    assert response.status_code == 404
    assert b"api_key" not in response.data


def test_editor_of_a_widget_that_is_not_a_fork_has_no_needs_values_box(app, original, alice):
    editor = alice.client.get(f"/widgets/{original}/edit").get_data(as_text=True)
    assert 'id="needs-values"' not in editor


def _count_statements(app, action):
    """Run `action` and return (statements executed, commits)."""
    counts = {"statements": 0, "commits": 0}

    def on_execute(*args):
        counts["statements"] += 1

    def on_commit(*args):
        counts["commits"] += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
    return counts


@pytest.mark.parametrize("count", [3, 300])
def test_fork_is_one_transaction_of_a_few_statements_whatever_the_number_of_secrets(
    app, alice, count
):
    widget_id = alice.create_widget("Many")
    add_secrets(app, widget_id, [(f"s{i}", f"value{i}", "", False, False) for i in range(count)])
    with app.app_context():
        original = db.session.get(Widget, widget_id)
        owner = db.session.get(User, original.owner_id)
        _ = original.owner  # the page that offers a fork has loaded the owner already
        counts = _count_statements(app, lambda: fork_widget(original, owner))
    # Read the names, read the schedules, insert the widget and its server modules, insert
    # every secret at once (no schedules here: no schedule insert), then the data tables and
    # their columns (two INSERT … SELECT, rows never copied).
    assert counts == {"statements": 7, "commits": 1}


def test_a_fork_that_fails_midway_leaves_nothing_behind(app, alice, monkeypatch):
    widget_id = alice.create_widget("Atomic")
    add_secrets(app, widget_id)

    def failing_insert(table):
        raise RuntimeError("the database went away mid-fork")

    with app.app_context():
        original = db.session.get(Widget, widget_id)
        owner = db.session.get(User, original.owner_id)
        # Fails after the fork's widget row was flushed: the rollback must take it back.
        monkeypatch.setattr("pyspace.forks.forking.insert", failing_insert)
        with pytest.raises(RuntimeError):
            fork_widget(original, owner)
        assert db.session.scalars(db.select(Widget.id)).all() == [widget_id]


@pytest.fixture
def limits_on(app_config):
    app_config["RATELIMIT_ENABLED"] = True


def test_forking_is_rate_limited_per_user(limits_on, alice, make_client):
    widget_id = alice.create_widget("Popular", visibility="public")
    statuses = [alice.post(f"/widgets/{widget_id}/fork").status_code for _ in range(31)]
    assert statuses[:30] == [302] * 30 and statuses[30] == 429
    # Someone else forking at the same time still can.
    assert _registered(make_client(), "frank").post(f"/widgets/{widget_id}/fork").status_code == 302


def test_fork_checklist_puts_required_secrets_first_with_their_descriptions(app, alice, bob):
    widget_id = alice.create_widget("Checklist", visibility="public")
    with app.app_context():
        db.session.add_all(
            [
                Secret(widget_id=widget_id, name="optional_one", description="Only for debugging"),
                Secret(
                    widget_id=widget_id,
                    name="api_key",
                    description="OpenWeather API key, free tier is fine",
                    required=True,
                ),
            ]
        )
        db.session.commit()
    fork_id = fork_as(bob, widget_id)
    box = bob.client.get(f"/widgets/{fork_id}/needs-values").get_data(as_text=True)
    assert box.index("<code>api_key</code>") < box.index("<code>optional_one</code>")
    assert "OpenWeather API key, free tier is fine" in box and "Only for debugging" in box
    assert "Required" in box.split("<code>optional_one</code>")[0]


def test_a_fork_copies_schedules_disabled_and_its_checklist_says_so(app, alice, bob):
    from pyspace.models import Schedule
    from pyspace.tasks import schedules

    code = "import anvil.server\n@anvil.server.background_task\ndef refresh():\n    pass\n"
    widget_id = alice.create_widget("Weather", visibility="public", server_code=code)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        schedules.create_schedule(widget, "refresh", schedules.Interval("hour", n=2))
    response = bob.post(f"/widgets/{widget_id}/fork")
    fork_id = response.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        copied = db.session.scalars(db.select(Schedule).filter_by(widget_id=fork_id)).all()
        assert [(s.task_name, s.every, s.n, s.enabled, s.next_run_at) for s in copied] == [
            ("refresh", "hour", 2, False, None)
        ]
        assert schedules.fire_due(schedules.utcnow() + timedelta(days=30)) != []  # the original
        assert db.session.scalars(db.select(Run).filter_by(widget_id=fork_id)).all() == []
    editor = bob.client.get(f"/widgets/{fork_id}/edit").get_data(as_text=True)
    assert "1 schedule copied disabled" in editor
