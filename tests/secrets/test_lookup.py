"""`secret_lookup.value_for_run`: the runner's one way to a secret's value."""

import pytest

from pyspace.extensions import db
from pyspace.models import AuditEvent, Secret, Widget
from pyspace.secrets import vault
from pyspace.secrets.lookup import SecretLookupError, value_for_run


@pytest.fixture
def widgets(app, make_user):
    """Two widgets of one owner; the first has a set, a blank and a required blank secret."""
    owner_id = make_user("owner")
    with app.app_context():
        first = Widget(owner_id=owner_id, title="First")
        other = Widget(owner_id=owner_id, title="Other")
        db.session.add_all([first, other])
        db.session.flush()
        db.session.add_all(
            [
                Secret(
                    widget_id=first.id,
                    name="api_key",
                    ciphertext=vault.encrypt_value("s3cr3t-value"),
                ),
                Secret(widget_id=first.id, name="blank_one"),
                Secret(
                    widget_id=first.id,
                    name="weather_key",
                    required=True,
                    description="OpenWeather API key, free tier is fine",
                ),
                Secret(
                    widget_id=other.id,
                    name="other_key",
                    ciphertext=vault.encrypt_value("other-value"),
                ),
            ]
        )
        db.session.commit()
        yield {"first": first.id, "other": other.id, "owner": owner_id}


def test_run_gets_value_and_use_is_audited_without_the_value(app, widgets, decryptions):
    before = decryptions.count
    assert value_for_run(widgets["first"], "api_key", None) == "s3cr3t-value"
    assert decryptions.count == before + 1
    secret = db.session.scalar(db.select(Secret).filter_by(name="api_key"))
    assert secret.last_used_at is not None
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="use"))
    assert (event.widget_id, event.secret_name, event.actor_id) == (
        widgets["first"],
        "api_key",
        None,
    )
    assert "s3cr3t" not in event.detail


@pytest.mark.parametrize("name", ["other_key", "API_KEY", "nope", "api_key' OR '1'='1", "x" * 65])
def test_run_cannot_reach_other_widgets_or_unknown_names(app, widgets, name, decryptions):
    before = decryptions.count
    with pytest.raises(SecretLookupError, match="No such secret"):
        value_for_run(widgets["first"], name, widgets["owner"])
    assert decryptions.count == before


def test_blank_secret_tells_the_user_to_set_it(app, widgets):
    with pytest.raises(SecretLookupError) as raised:
        value_for_run(widgets["first"], "blank_one", None)
    assert "'blank_one'" in str(raised.value) and "Secrets panel" in str(raised.value)


@pytest.mark.parametrize("actor", ["owner", "anonymous", "other user"])
def test_blank_required_secret_error_gives_everyone_its_description(app, widgets, actor, make_user):
    """One rule: a description is documentation for people who can fork the widget (forks and
    .env.example carry it), so every run error for a blank required secret shows it."""
    actor_id = widgets["owner"] if actor == "owner" else None
    if actor == "other user":
        actor_id = make_user("viewer")
    with pytest.raises(SecretLookupError) as raised:
        value_for_run(widgets["first"], "weather_key", actor_id)
    assert "'weather_key' has no value yet" in str(raised.value)
    assert "OpenWeather API key, free tier is fine" in str(raised.value)


def test_a_wrong_key_at_run_time_is_a_clear_message_not_a_crash(app, widgets, app_config):
    from cryptography.fernet import Fernet

    app.config["SECRETS_KEY"] = Fernet.generate_key().decode()
    vault.init_app(app)
    with pytest.raises(SecretLookupError, match="secrets key has changed") as raised:
        value_for_run(widgets["first"], "api_key", None)
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize("name", [None, 42, ["api_key"]])
def test_a_name_that_is_not_a_string_is_no_such_secret(app, widgets, name):
    with pytest.raises(SecretLookupError, match="No such secret"):
        value_for_run(widgets["first"], name, None)


def test_missing_secret_message_names_it(app, widgets):
    with pytest.raises(SecretLookupError) as raised:
        value_for_run(widgets["first"], "api_kee", None)
    assert str(raised.value) == "No such secret 'api_kee'"
