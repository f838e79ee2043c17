"""One storage budget per account (QUOTA_STORAGE_BYTES: code + table values + run history),
shown on the account page and enforced on every way to create a widget, table, row, schedule or
history entry; "Use this example" and forks go through the same widget and schedule quotas."""

import threading

import pytest

from pyspace import quotas
from pyspace.extensions import db
from pyspace.models import DataTable, Run, Schedule, User, Widget, utcnow
from pyspace.runs import history
from pyspace.sandbox.results import RunResult
from pyspace.tables import schema
from pyspace.tables.columns import value_size
from pyspace.tables.rows import QuotaError, add_rows
from tests.tables.helpers import TABLE_LIMITS

TASK_CODE = """
import anvil.server

@anvil.server.background_task
def tick():
    print('tick')
"""
BUDGET = 64 * 1024


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def _history_of(app, widget_id: str, stored_bytes: int) -> None:
    """A finished run of the widget that stored `stored_bytes` (as if it printed that much)."""
    with app.app_context():
        db.session.add(
            Run(
                widget_id=widget_id,
                kind="run",
                status="completed",
                stdout="x" * stored_bytes,
                stored_bytes=stored_bytes,
            )
        )
        db.session.commit()


@pytest.fixture
def full_account(app, alice):
    """Alice's widget (with a background task and a table) and a history that fills her budget."""
    app.config["QUOTA_STORAGE_BYTES"] = BUDGET
    widget_id = alice.create_widget("Ticker", server_code=TASK_CODE)
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "readings")
        schema.add_column(table, "city", "text")
        table_id, column_id = table.id, table.columns[0].id
    _history_of(app, widget_id, BUDGET)
    return widget_id, table_id, column_id


def test_the_account_page_shows_the_storage_used_by_code_tables_and_history(app, alice):
    widget_id = alice.create_widget("W")
    _history_of(app, widget_id, 300 * 1024)
    page = " ".join(alice.client.get("/account").get_data(as_text=True).split())
    assert "<strong>300 KiB</strong> of the 100.0 MiB one account may keep (0%)" in page
    assert "table data 0 bytes, run history 300 KiB." in page


def test_a_full_budget_refuses_a_new_widget_with_a_clear_message(app, alice, full_account):
    response = alice.post("/widgets/new", {"title": "One more", "kind": "script"})
    assert response.status_code == 422
    assert "Your account&#39;s storage is full" in response.get_data(as_text=True)
    assert _count(app, Widget) == 1


def test_a_full_budget_refuses_a_new_table(app, alice, full_account):
    widget_id, _, _ = full_account
    response = alice.post(f"/widgets/{widget_id}/tables", {"name": "more"}, htmx=True)
    assert response.status_code == 422
    assert "storage is full" in response.get_data(as_text=True)
    assert _count(app, DataTable) == 1


def test_a_full_budget_refuses_a_new_row_from_the_data_panel_and_csv(app, alice, full_account):
    widget_id, table_id, column_id = full_account
    base = f"/widgets/{widget_id}/tables/{table_id}"
    added = alice.post(f"{base}/rows", {f"col-{column_id}": "Oslo"}, htmx=True)
    assert added.status_code == 422 and "storage is full" in added.get_data(as_text=True)
    imported = alice.post(f"{base}/import", {"csv": "city\nRome\n", "step": "apply"}, htmx=True)
    assert imported.status_code == 422 and "storage is full" in imported.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(DataTable, table_id).row_count == 0


def test_a_full_budget_refuses_a_new_schedule_in_the_form(app, alice, full_account):
    widget_id, _, _ = full_account
    form = {"task_name": "tick", "every": "hour", "n": "1"}
    response = alice.post(f"/widgets/{widget_id}/schedules", form, htmx=True)
    assert response.status_code == 422
    assert "storage is full" in response.get_data(as_text=True)
    assert _count(app, Schedule) == 0


def test_a_full_budget_refuses_using_an_example(app, alice, full_account):
    response = alice.post("/examples/weather-logger/use")
    assert response.status_code == 302 and response.headers["Location"].endswith("/examples")
    page = alice.client.get("/examples").get_data(as_text=True)
    assert "Not created: Your account&#39;s storage is full" in page
    assert _count(app, Widget) == 1


def test_a_run_past_the_budget_is_recorded_with_the_start_and_end_of_its_output(
    app, alice, full_account
):
    widget_id, _, _ = full_account
    loud = "BEGIN" + "y" * 50_000 + "END"
    with app.app_context():
        run_id = history.record_finished(
            widget_id, "run", None, RunResult(ok=True, stdout=loud), utcnow()
        ).id
        run = db.session.get(Run, run_id, populate_existing=True)
        assert run.stdout.startswith("BEGIN") and run.stdout.endswith("END")
        assert len(run.stdout) <= history.OVER_BUDGET_CHARS
        assert "not kept in full" in run.stderr and "storage is full" in run.stderr
        assert run.stored_bytes < 2 * 1024


def test_a_run_within_the_budget_stores_its_output_and_counts_it(app, alice):
    widget_id = alice.create_widget("W")
    with app.app_context():
        run_id = history.record_finished(
            widget_id, "run", None, RunResult(ok=True, stdout="é" * 10_000), utcnow()
        ).id
        run = db.session.get(Run, run_id, populate_existing=True)
        assert run.stdout == "é" * 10_000 and run.stored_bytes == 20_000


def test_use_this_example_goes_through_the_widget_quota(app, alice):
    app.config["QUOTA_WIDGETS"] = 2
    alice.create_widget("First")
    assert alice.post("/examples/weather-logger/use").status_code == 302
    assert _count(app, Widget) == 2
    refused = alice.post("/examples/weather-logger/use")
    assert refused.headers["Location"].endswith("/examples")
    page = alice.client.get("/examples").get_data(as_text=True)
    assert "Not created: You have 2 widgets, the most one account can have here (2)" in page
    assert _count(app, Widget) == 2


def test_a_fork_whose_schedules_would_pass_the_account_limit_is_refused(app, alice, bob):
    app.config["SCHEDULES_PER_USER"] = 2
    used = alice.post("/examples/weather-logger/use")  # one schedule
    original = used.headers["Location"].rstrip("/").split("/")[-2]
    alice.save_widget(original, visibility="public")
    with app.app_context():
        bobs = Widget(
            owner_id=db.session.scalar(db.select(User.id).filter_by(username="bob")),
            title="Ticker",
            server_code=TASK_CODE,
        )
        db.session.add(bobs)
        db.session.flush()
        db.session.add_all(
            Schedule(widget_id=bobs.id, task_name="tick", every="hour", n=1, at_minute=0)
            for _ in range(2)
        )
        db.session.commit()
    response = bob.post(f"/widgets/{original}/fork")
    assert response.status_code == 302
    page = bob.client.get(f"/widgets/{original}").get_data(as_text=True)
    assert "Not forked: Your widgets have 2 schedules" in page
    assert _count(app, Widget) == 2


FLOODER = """
import anvil.tables as tables
from anvil.tables import app_tables

added = 0
try:
    while True:
        app_tables.readings.add_rows([{'city': 'x' * 200}] * 20)
        added += 20
except tables.QuotaExceededError as error:
    print(added > 0, 'storage is full' in str(error))
print('A' * 20_000)
"""
NOTE = "bob's note"


def _use(app, username: str) -> quotas.StorageUse:
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).filter_by(username=username))
        return quotas.storage_use(user_id)


def test_an_account_flooding_its_budget_gets_clear_refusals_and_never_stalls_another(
    app, alice, bob
):
    app.config.update({**TABLE_LIMITS, "QUOTA_STORAGE_BYTES": BUDGET})
    flooder = alice.create_widget("Flood", server_code=FLOODER)
    hello = bob.create_widget("Hello", server_code="print('hello')\n")
    tables = {}
    for widget_id, column in ((flooder, "city"), (hello, "note")):
        with app.app_context():
            table = schema.create_table(db.session.get(Widget, widget_id), "readings")
            schema.add_column(table, column, "text")
            tables[widget_id] = (table.id, table.columns[0].id)
    bobs_use = _use(app, "bob")
    answers: dict[str, list] = {"imports": [], "runs": []}

    def flood() -> None:
        # CSV imports of 50 rows (about 10 KB) back to back until refused, and then some.
        table_id, _ = tables[flooder]
        csv = "city\n" + f"{'y' * 200}\n" * 50
        url = f"/widgets/{flooder}/tables/{table_id}/import"
        refused = 0
        while refused < 3:
            response = alice.post(url, {"csv": csv, "step": "apply"}, htmx=True)
            answers["imports"].append((response.status_code, response.get_data(as_text=True)))
            refused += response.status_code != 200
        # Widget code adding rows until refused, then printing 20 KB for the history.
        for _ in range(2):
            run = alice.post(f"/widgets/{flooder}/run", headers={"Accept": "application/json"})
            answers["runs"].append((run.status_code, run.get_json()))

    flooding = threading.Thread(target=flood)
    flooding.start()
    table_id, column_id = tables[hello]
    bobs = []
    for n in range(8):
        added = bob.post(
            f"/widgets/{hello}/tables/{table_id}/rows", {f"col-{column_id}": NOTE}, htmx=True
        )
        run = bob.post(f"/widgets/{hello}/run", headers={"Accept": "application/json"})
        saved = bob.post(
            f"/widgets/{hello}/edit",
            {"title": "Hello", "visibility": "private", "server_code": f"print('hello')#{n}\n"},
        )
        outcome = (added.status_code, run.status_code, run.get_json()["stdout"], saved.status_code)
        bobs.append(outcome)
    flooding.join(timeout=120)
    assert not flooding.is_alive()

    # Bob: every write and run went through, and only his own writes count against his budget.
    assert bobs == [(200, 200, "hello\n", 302)] * 8
    after = _use(app, "bob")
    assert after.tables == bobs_use.tables + 8 * value_size(NOTE)
    assert after.code == len("print('hello')#7\n")
    # Alice: a clear refusal (422 with the reason, never a 500) and a budget that held.
    statuses = [status for status, _ in answers["imports"]]
    assert statuses[0] == 200 and statuses[-3:] == [422] * 3 and set(statuses) <= {200, 422}
    assert all("storage is full" in text for status, text in answers["imports"] if status == 422)
    for status, run in answers["runs"]:
        assert status == 200 and run["ok"], run
    assert answers["runs"][-1][1]["stdout"].startswith("False True\n")  # full from the start
    use = _use(app, "alice")
    assert use.code + use.tables <= BUDGET
    # Runs past the budget keep only the start and end of their output.
    assert use.history < 8 * 1024


def test_writers_racing_for_the_last_of_the_budget_never_pass_it_together(app, alice):
    app.config["QUOTA_STORAGE_BYTES"] = BUDGET
    widget_id = alice.create_widget("Racers")
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "readings")
        schema.add_column(table, "city", "text")
    room = BUDGET - _use(app, "alice").total
    # Each writer adds 40% of the room: two fit, a third doesn't.
    rows = [{"city": "z" * 998}] * (room * 2 // 5 // value_size("z" * 998))
    writers = 6
    start = threading.Barrier(writers)
    outcomes: list[str] = []

    def write() -> None:
        with app.app_context():
            racing = schema.table_named(widget_id, "readings")
            start.wait()
            try:
                add_rows(racing, rows)
                outcomes.append("added")
            except QuotaError as error:
                outcomes.append("refused" if "storage is full" in str(error) else str(error))

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["added"] * 2 + ["refused"] * 4
    assert _use(app, "alice").total <= BUDGET
