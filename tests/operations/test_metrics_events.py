"""The /metrics series counted where things happen: how long queued runs waited (by the
owner's account class, never the account), sandbox starts and warm or cold sandboxes, database
busy waits, and mail sent, kept, failed or refused. Each test makes the event happen and reads
/metrics."""

import socket
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from pyspace.extensions import db
from pyspace.models import Classroom, ClassroomMember, Widget, utcnow
from pyspace.runs import history
from pyspace.sandbox import runner_for
from pyspace.sandbox.results import RunResult
from tests.mail.conftest import Mailbox
from tests.operations.test_metrics import samples
from tests.sandbox.helpers import SMALL_LIMITS, confinement, run_json
from tests.test_busy_database import WriteLock


def scrape(client) -> tuple[str, dict[tuple[str, tuple], float]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    return text, samples(text)


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_claimed_runs_wait_is_counted_under_its_owners_account_class(app, client, make_user):
    teacher = make_user("tess-teacher", is_teacher=True)
    pupil = make_user("pip-pupil")
    with app.app_context():
        classroom = Classroom(teacher_id=teacher, name="Class 7B")
        db.session.add(classroom)
        db.session.flush()
        db.session.add(ClassroomMember(classroom_id=classroom.id, user_id=pupil))
        for owner in (teacher, pupil):
            widget = Widget(owner_id=owner, title="Secret project title", server_code="")
            db.session.add(widget)
            db.session.flush()
            queued_at = utcnow() - timedelta(seconds=4)
            history.new_run(widget.id, "task", None, task_name="nap", created_at=queued_at)
    _, before = scrape(client)
    with app.app_context():
        assert history.claim_next_run() is not None
        assert history.claim_next_run() is not None
    text, after = scrape(client)
    for account_class in ("teacher", "pupil"):
        count = "pyspace_queue_wait_seconds_count"
        total = "pyspace_queue_wait_seconds_sum"
        assert value(after, count, account_class=account_class) == (
            value(before, count, account_class=account_class) + 1
        )
        waited = value(after, total, account_class=account_class) - value(
            before, total, account_class=account_class
        )
        assert 4 <= waited < 60
    # Labels name a class, never an account or a widget.
    assert "tess-teacher" not in text and "pip-pupil" not in text
    assert "Secret project title" not in text


@pytest.fixture
def write_lock(app, monkeypatch):
    from pyspace import database

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("holds SQLite's write lock from outside")
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 100)
    with app.app_context():
        db.engine.dispose()  # new connections take the short busy timeout
    lock = WriteLock(app)
    yield lock
    lock.connection.close()


def test_busy_database_answers_and_bookkeeping_retries_are_counted(app, alice, write_lock):
    widget_id = alice.create_widget("Before")
    token = alice.csrf_token()
    _, before = scrape(alice.client)
    write_lock.hold()
    try:
        response = alice.client.post(
            f"/widgets/{widget_id}/edit",
            data={"title": "After", "visibility": "private", "csrf_token": token},
        )
    finally:
        write_lock.release()
    assert response.status_code == 503
    write_lock.hold()
    releaser = write_lock.release_after(0.3)
    with app.app_context():
        history.record_finished(
            widget_id, "run", None, RunResult(ok=True, stdout="hi\n"), datetime(2026, 12, 1)
        )
    releaser.join()
    _, after = scrape(alice.client)
    busy = "pyspace_database_busy_total"
    assert value(after, busy, where="request") == value(before, busy, where="request") + 1
    retries = value(after, busy, where="bookkeeping_retry")
    assert retries >= value(before, busy, where="bookkeeping_retry") + 1


@pytest.fixture(params=["cold", "warm"])
def pool_mode(request, app_config):
    app_config.update(SMALL_LIMITS, RUN_POOL_SIZE=1 if request.param == "warm" else 0)
    return request.param


def test_a_run_counts_its_sandbox_start_and_whether_it_came_warm(pool_mode, app, alice):
    confinement(app)
    runner = runner_for(app)
    if pool_mode == "warm":
        assert runner.pool.wait_until_full(10)
    widget_id = alice.create_widget("Hello", server_code="print('hi')\n")
    _, before = scrape(alice.client)
    answer = run_json(alice, widget_id)
    assert answer["ok"], answer
    if pool_mode == "warm":
        assert runner.pool.wait_until_full(10)  # the used sandbox's replacement has started
    _, after = scrape(alice.client)
    taken = "pyspace_sandboxes_taken_total"
    assert value(after, taken, source=pool_mode) == value(before, taken, source=pool_mode) + 1
    other = "cold" if pool_mode == "warm" else "warm"
    assert value(after, taken, source=other) == value(before, taken, source=other)
    starts = "pyspace_sandbox_starts_total"
    assert value(after, starts) >= value(before, starts) + 1
    assert value(after, "pyspace_warm_pool_size") == (1 if pool_mode == "warm" else 0)


@pytest.fixture
def mailbox():
    box = Mailbox()
    with socket.socket() as probe:  # a free port (the controller can't start on port 0)
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


SEND_TWICE = """
import anvil.email
for n in range(2):
    try:
        anvil.email.send(to="ann@example.org", subject="Hello", text="hi")
        print("sent")
    except anvil.email.SendFailure:
        print("refused")
"""


def test_mail_sent_kept_failed_and_refused_by_a_limit_are_counted(app, alice, mailbox):
    app.config.update(SMALL_LIMITS, RUN_WALL_SECONDS=8, RUN_CPU_SECONDS=3)
    confinement(app)
    app.config.update(MAIL_PER_WIDGET_PER_DAY=1, MAIL_FROM="widgets@pyspace.test")
    kept = alice.create_widget("Kept", server_code=SEND_TWICE)
    failing = alice.create_widget("Failing", server_code=SEND_TWICE)
    sending = alice.create_widget("Sending", server_code=SEND_TWICE)
    _, before = scrape(alice.client)
    app.config["SMTP_URL"] = ""
    assert run_json(alice, kept)["stdout"] == "sent\nrefused\n"  # the first in the outbox
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"  # discard port: nothing listens
    assert run_json(alice, failing)["stdout"] == "refused\nrefused\n"  # failed, then the limit
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{mailbox.port}"
    assert run_json(alice, sending)["stdout"] == "sent\nrefused\n"
    assert len(mailbox.messages) == 1
    text, after = scrape(alice.client)
    mail = "pyspace_mail_messages_total"
    expected = {"outbox": 1, "failed": 1, "sent": 1, "refused": 3}
    for outcome, more in expected.items():
        assert value(after, mail, outcome=outcome) == value(before, mail, outcome=outcome) + more
    assert "ann@example.org" not in text and "Kept" not in text
