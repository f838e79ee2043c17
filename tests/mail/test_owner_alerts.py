"""Alerts to a widget's owner by e-mail: a scheduled task failing ALERT_SCHEDULE_FAILURES times in
a row, and a possible extraction attempt (a caller blocked for withheld answers). They arrive
through a real SMTP server on loopback at the owner's confirmed address (the outbox otherwise),
at most one of each kind per widget an hour, never with a secret value in them, and not at all
once the owner switches them off."""

from datetime import timedelta

import pytest

from pyspace import extraction
from pyspace.extensions import db
from pyspace.models import MailMessage, OwnerAlert, User, Widget, utcnow
from pyspace.runs import history
from pyspace.sandbox.results import failed
from pyspace.tasks import schedules
from pyspace.tasks.schedules import Interval
from tests.gui.test_routes import call, frame_boot
from tests.sandbox.helpers import add_secret
from tests.security.test_redaction_oracle import PIN, SERVER_CODE

TASK_CODE = """
import anvil.server

@anvil.server.background_task
def refresh():
    raise ValueError('the feed is down')
"""
SECRET_IN_ERROR = "tok-5be1-never-mailed"


@pytest.fixture
def smtp(app, mailbox):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{mailbox.port}"
    app.config["MAIL_FROM"] = "site@pyspace.test"
    app.config["SITE_URL"] = "https://py.example.org"
    return mailbox


def _give_alice_an_address(app, confirmed=True):
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="alice"))
        user.email = "alice@example.org"
        user.email_confirmed_at = utcnow() if confirmed else None
        db.session.commit()


@pytest.fixture
def scheduled(app, alice):
    """alice's widget with a schedule of its failing task; returns (widget id, schedule id)."""
    widget_id = alice.create_widget("Feed reader", server_code=TASK_CODE)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        schedule = schedules.create_schedule(widget, "refresh", Interval("hour"))
        return widget_id, schedule.id


def _fail(app, widget_id, schedule_id, times=1):
    with app.app_context():
        for _ in range(times):
            run = history.new_run(widget_id, "scheduled", None, schedule_id=schedule_id)
            history.claim_run(run.id)
            history.finish_run(run.id, failed("ValueError", f"bad token {SECRET_IN_ERROR}"))


def _hour_passes(app, widget_id, kind):
    with app.app_context():
        alert = db.session.scalar(db.select(OwnerAlert).filter_by(widget_id=widget_id, kind=kind))
        alert.sent_at = utcnow() - timedelta(hours=1, seconds=1)
        db.session.commit()


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_schedule_failing_three_times_in_a_row_mails_its_owner_once_an_hour(app, smtp, scheduled):
    widget_id, schedule_id = scheduled
    _give_alice_an_address(app)
    _fail(app, widget_id, schedule_id, times=2)
    assert smtp.messages == []
    _fail(app, widget_id, schedule_id)
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["alice@example.org"]
    assert message["From"].addresses[0].addr_spec == "site@pyspace.test"
    assert "Feed reader" in message["Subject"]
    body = _body(message)
    assert "Task: refresh" in body and "Failed runs in a row: 3" in body
    assert "ValueError" in body
    assert f"https://py.example.org/widgets/{widget_id}/edit" in body
    # The run's error message (its output) is never in the alert.
    assert SECRET_IN_ERROR not in message.as_string() and "bad token" not in body

    _fail(app, widget_id, schedule_id, times=5)
    assert len(smtp.messages) == 1, "a flood of failures sends one alert an hour"
    _hour_passes(app, widget_id, "schedule_failing")
    _fail(app, widget_id, schedule_id)
    assert len(smtp.messages) == 2 and "Failed runs in a row: 9" in _body(smtp.messages[1][1])


def test_the_alerts_setting_is_read_from_the_config(app, smtp, scheduled):
    widget_id, schedule_id = scheduled
    _give_alice_an_address(app)
    app.config["ALERT_SCHEDULE_FAILURES"] = 1
    _fail(app, widget_id, schedule_id)
    assert len(smtp.messages) == 1


def test_a_success_between_failures_starts_the_count_again(app, smtp, scheduled):
    from pyspace.sandbox.results import RunResult

    widget_id, schedule_id = scheduled
    _give_alice_an_address(app)
    _fail(app, widget_id, schedule_id, times=2)
    with app.app_context():
        run = history.new_run(widget_id, "scheduled", None, schedule_id=schedule_id)
        history.finish_run(run.id, RunResult(ok=True))
    _fail(app, widget_id, schedule_id, times=2)
    assert smtp.messages == []


def test_an_owner_who_switches_alerts_off_gets_none(app, smtp, alice, bob, scheduled):
    widget_id, schedule_id = scheduled
    _give_alice_an_address(app)
    panel = alice.client.get(f"/widgets/{widget_id}/outbox", headers={"HX-Request": "true"})
    assert "Switch off" in panel.get_data(as_text=True)
    assert bob.post(f"/widgets/{widget_id}/alerts", {"on": "0"}).status_code == 404
    switched = alice.post(f"/widgets/{widget_id}/alerts", {"on": "0"}, htmx=True)
    assert switched.status_code == 200 and "Switch on" in switched.get_data(as_text=True)
    assert "Alerts by e-mail are off" in switched.headers["HX-Trigger"]
    assert alice.post(f"/widgets/{widget_id}/alerts", {"on": "maybe"}).status_code == 422
    _fail(app, widget_id, schedule_id, times=4)
    assert smtp.messages == []
    with app.app_context():
        assert db.session.scalar(db.select(MailMessage)) is None
    assert alice.post(f"/widgets/{widget_id}/alerts", {"on": "1"}).status_code == 302
    _fail(app, widget_id, schedule_id)
    assert len(smtp.messages) == 1


def test_without_a_mail_server_the_alert_waits_in_the_widgets_outbox(app, alice, scheduled):
    widget_id, schedule_id = scheduled
    _give_alice_an_address(app)
    _fail(app, widget_id, schedule_id, times=3)
    response = alice.client.get(f"/widgets/{widget_id}/outbox")
    assert "A scheduled task keeps failing in Feed reader" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"  # the owner's mail, never cached
    with app.app_context():
        row = db.session.scalar(db.select(MailMessage))
        assert row.status == "outbox" and row.widget_id == widget_id and row.account_id is None
        assert SECRET_IN_ERROR.encode() not in row.raw


def test_an_unconfirmed_address_gets_no_alert_it_is_kept_in_the_outbox(app, smtp, scheduled):
    widget_id, schedule_id = scheduled
    _give_alice_an_address(app, confirmed=False)
    _fail(app, widget_id, schedule_id, times=3)
    assert smtp.messages == []
    with app.app_context():
        row = db.session.scalar(db.select(MailMessage))
        assert row.status == "outbox" and "no confirmed e-mail address" in row.recipients


def test_alerts_do_not_use_up_the_widgets_own_daily_mail(app, scheduled):
    widget_id, schedule_id = scheduled
    app.config["MAIL_PER_WIDGET_PER_DAY"] = 1
    _fail(app, widget_id, schedule_id, times=3)
    from pyspace.mail.sending import Draft, send_widget_mail
    from pyspace.sandbox.redaction import Redactor

    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        draft = Draft(to=[], cc=[], bcc=[], subject="hi", text="hello", html=None)
        assert send_widget_mail(widget, draft, Redactor()).status == "outbox"


def test_extraction_blocks_of_many_callers_mail_one_alert_an_hour(app, smtp, alice):
    widget_id = alice.create_widget("Door", "gui", visibility="public", server_code=SERVER_CODE)
    _give_alice_an_address(app)
    app.config["EXTRACTION_BUDGET"] = 1
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        for caller in ("address:10.0.0.1", "address:10.0.0.2", "address:10.0.0.3"):
            extraction.count_withheld(widget, caller, None)
    assert len(smtp.messages) == 1
    body = _body(smtp.messages[0][1])
    assert "Possible secret-extraction attempt" in smtp.messages[0][1]["Subject"]
    assert "an anonymous visitor" in body and "10.0.0" not in body
    _hour_passes(app, widget_id, "extraction")
    with app.app_context():
        extraction.count_withheld(db.session.get(Widget, widget_id), "address:10.0.0.4", None)
    assert len(smtp.messages) == 2


def test_a_caller_probing_a_secret_gets_the_owner_an_alert_without_the_value(app, smtp, alice, bob):
    widget_id = alice.create_widget("Door", "gui", visibility="public", server_code=SERVER_CODE)
    add_secret(app, widget_id, "door_pin", PIN)
    _give_alice_an_address(app)
    app.config["EXTRACTION_BUDGET"] = 2
    token = frame_boot(bob.client, widget_id)["callToken"]
    for _ in range(2):
        assert call(bob.client, widget_id, "greet", token, {"args": [PIN]}).status_code == 200
    assert call(bob.client, widget_id, "greet", token, {"args": ["x"]}).status_code == 429
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["alice@example.org"]
    assert "a logged-in account" in _body(message)
    assert PIN not in _body(message) and PIN not in message["Subject"]
