"""Answering background-task requests from inside a run (channel services).

`launch_task`, `get_task`, `list_tasks`, `kill_task` and `set_task_state`, always for the
widget the run was started for: a task id of another widget is "no such task". `task_state`
is redacted with the run's own redactor before it is stored, like the rest of its output: masked
in a task of the owner's, withheld whole in a task someone else started.

A task whose outcome held a secret value (`Run.held_secret`) is read back by a run that is not
the owner's withheld whole — status, state, error and return value — and that run then shows
nothing (`RunContext.read_withheld`), so its answer counts against its caller's extraction
budget: otherwise a visitor could launch tasks with guesses and read back "failed" or
"completed" as often as they liked.
"""

import json
import logging

from sqlalchemy import select, update

from ..database import rows_changed
from ..extensions import db
from ..models import Run, utcnow
from ..runs.execution import TASK_KINDS, TaskLaunchError, launch_task
from ..runs.history import run_as_json
from ..sandbox.redaction import WITHHELD
from ..sandbox.services import Answer, RunContext, refusal

log = logging.getLogger(__name__)

MAX_STATE_BYTES = 64 * 1024
LISTED_TASKS = 50
TERMINATION = {"completed": "completed", "failed": "failed", "killed": "killed"}


def task_info(task: Run, reader: RunContext) -> dict:
    """A task as the code of the run `reader` sees it: withheld whole from a run that is not
    the owner's when the task's outcome held a secret value (and `reader` is marked)."""
    info = {
        "id": str(task.id),
        "name": task.task_name,
        "started_at": task.started_at.isoformat() if task.started_at else None,
        "termination_status": None if task.is_active else TERMINATION.get(task.status, "missing"),
    }
    if task.held_secret and not reader.viewer_is_owner:
        reader.read_withheld = True
        hidden = {"type": "OutputHidden", "message": WITHHELD}
        # Every ended task reads as failed: completed or not is itself an answer.
        if not task.is_active:
            info["termination_status"] = "failed"
        error = None if task.is_active else hidden
        return {**info, "state": {}, "error": error, "return_value": None}
    shown = run_as_json(task)
    return {
        **info,
        "state": shown["state"],
        "error": shown["error"],
        "return_value": shown["return_value"],
    }


def _task_of(request: dict, run: RunContext) -> Run | None:
    task_id = str(request.get("id", ""))
    if not task_id.isdigit():
        return None
    return db.session.scalar(
        select(Run).where(
            Run.id == int(task_id),
            Run.widget_id == run.widget_id,
            Run.kind.in_(TASK_KINDS),
            Run.status != "skipped",
        )
    )


def launch(request: dict, run: RunContext) -> Answer:
    """Queue one of the widget's background tasks."""
    name, args, kwargs = request.get("name"), request.get("args", []), request.get("kwargs", {})
    if not isinstance(name, str) or not name:
        return refusal("launch_background_task needs the task's name, as a string.")
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        return refusal("Background task arguments must be JSON values.")
    try:
        task = launch_task(run.widget_id, name, args, kwargs, run.actor_id)
    except TaskLaunchError as error:
        return refusal(str(error))
    return {"ok": True, "task": task_info(task, run)}


def get_task(request: dict, run: RunContext) -> Answer:
    """One of the widget's tasks, fresh from the database."""
    db.session.expire_all()
    task = _task_of(request, run)
    if task is None:
        return refusal(f"No background task {request.get('id')!r} in this widget.")
    return {"ok": True, "task": task_info(task, run)}


def list_tasks(request: dict, run: RunContext) -> Answer:
    """The widget's most recent tasks, newest first."""
    tasks = db.session.scalars(
        select(Run)
        .where(Run.widget_id == run.widget_id, Run.kind.in_(TASK_KINDS), Run.status != "skipped")
        .order_by(Run.id.desc())
        .limit(LISTED_TASKS)
    ).all()
    return {"ok": True, "tasks": [task_info(task, run) for task in tasks]}


def kill(request: dict, run: RunContext) -> Answer:
    """Ask the task's worker to kill it (a queued task is killed at once)."""
    task = _task_of(request, run)
    if task is None:
        return refusal(f"No background task {request.get('id')!r} in this widget.")
    request_kill(task.id)
    return {"ok": True}


def request_kill(run_id: int) -> None:
    """Kill a queued run now, and ask the worker of a running one to kill it."""
    db.session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "queued")
        .values(
            status="killed",
            finished_at=utcnow(),
            error_type="BackgroundTaskKilled",
            error_message="The task was killed before it started.",
            args_json=None,
        )
    )
    db.session.execute(update(Run).where(Run.id == run_id).values(kill_requested=True))
    db.session.commit()


def set_task_state(request: dict, run: RunContext) -> Answer:
    """Store the running task's `task_state` (redacted), for Task.get_state() elsewhere: masked
    in the owner's task, withheld whole in anyone else's (where a mask fell would tell which
    part of what they sent matched the value)."""
    state = request.get("state")
    if not isinstance(state, dict):
        return refusal("task_state must be a dict.")
    # A task that read another's withheld outcome may pass on what it was through its state.
    held_secret = run.redactor.value_contains_secret(state) or run.read_withheld
    if held_secret and not run.viewer_is_owner:
        state = {"output_hidden": WITHHELD}
    text = json.dumps(run.redactor.value(state))
    if len(text) > MAX_STATE_BYTES:
        return refusal(f"task_state can hold at most {MAX_STATE_BYTES:,} bytes of JSON.")
    if run.run_id is None:
        return refusal("anvil.server.task_state is only available inside a background task.")
    changed = rows_changed(
        update(Run)
        .where(Run.id == run.run_id, Run.widget_id == run.widget_id, Run.kind.in_(TASK_KINDS))
        .values(state_json=text, **({"held_secret": True} if held_secret else {}))
    )
    db.session.commit()
    if not changed:
        return refusal("anvil.server.task_state is only available inside a background task.")
    return {"ok": True}


SERVICES = {
    "launch_task": launch,
    "get_task": get_task,
    "list_tasks": list_tasks,
    "kill_task": kill,
    "set_task_state": set_task_state,
}
