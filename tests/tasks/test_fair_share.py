"""Tasks (background and scheduled) take their widget owner's fair share of the sandboxes,
under a key of their own: schedules of different owners firing together never refuse each
other (a schedule has no actor: counted like an anonymous run, every owner's schedules would
take one address's share of 2), and a task never fails because its owner is pressing Run
meanwhile."""

import pytest

from pyspace.extensions import db
from pyspace.models import Schedule, Widget
from pyspace.tasks import schedules
from pyspace.tasks.schedules import Interval

from .helpers import TASK_CONFIG, consumer, runs_of, wait_for

SLOW_TASK = """
import time
import anvil.server

@anvil.server.background_task
def slow():
    time.sleep(2)
    return "done"
"""


@pytest.fixture
def app_config(app_config):
    # Two runs at once per account (the default), three consumers: three owners' runs together.
    return {**app_config, **TASK_CONFIG, "RUN_PER_USER_CONCURRENT": 2}


def _scheduled_widget(app, owner_id: int) -> str:
    """A widget of `owner_id` whose `slow` task is scheduled every 5 minutes; its id."""
    with app.app_context():
        widget = Widget(owner_id=owner_id, title="Slow", server_code=SLOW_TASK)
        db.session.add(widget)
        db.session.flush()
        schedules.create_schedule(widget, "slow", Interval(every="minute", n=5))
        return widget.id


def test_schedules_of_three_owners_due_together_all_run(app, make_user):
    widget_ids = [_scheduled_widget(app, make_user(name)) for name in ("ann", "ben", "cat")]
    with app.app_context():
        # The latest of the three: made across a minute's turn, their first times differ.
        due = max(db.session.scalars(db.select(Schedule.next_run_at)).all())
        assert len(schedules.fire_due(now=due)) == 3
    with consumer(app, threads=3):
        for widget_id in widget_ids:
            wait_for(
                lambda widget_id=widget_id: [
                    r for r in runs_of(app, widget_id) if r.finished_at is not None
                ],
                timeout=40,
            )
    outcomes = [(r.status, r.error_type) for w in widget_ids for r in runs_of(app, w)]
    assert outcomes == [("completed", None)] * 3
