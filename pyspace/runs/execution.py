"""Executing runs and recording them: the one way the site runs widget code.

- `run_and_record(widget, actor_id)` (a Run press) and `call_and_record(widget, fn, args,
  kwargs, actor_id)` (a GUI server call) run in this process with RUNS_ON=web, or are queued
  and answered by a worker with RUNS_ON=queue; either way they leave a Run in the history.
- `launch_task(widget_id, name, args, kwargs, actor_id)` queues a background task.
- `execute_next_run()` is what a queue consumer does for each message: claim the queued run
  fairest to start (round-robin across accounts), run it in a fresh sandbox (with a heartbeat,
  and a watcher that kills it when asked), store the outcome. `execute_run(run_id)` does the
  same for one given run.
"""

import contextlib
import json
import logging
import os
import signal
import threading
import time
from dataclasses import replace
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import select, update

from ..extensions import db
from ..models import Run, Widget, utcnow
from ..sandbox import call_endpoint, call_function, run_widget, runner_for
from ..sandbox.bwrap import Sandbox
from ..sandbox.results import RunResult, failed
from . import history
from .queue import enqueue_run

log = logging.getLogger(__name__)

TASK_KINDS = ("task", "scheduled")
# How often a running run's watcher looks for a kill request (Task.kill() stops it within 5 s).
KILL_POLL_SECONDS = 0.5


class TaskLaunchError(Exception):
    """A background task can't be launched; the message says why, for the widget's code."""


def stale_after(app: Flask) -> timedelta:
    """How long a running run's heartbeat may be silent before it counts as `missing`."""
    return timedelta(seconds=5 * float(app.config["TASK_HEARTBEAT_SECONDS"]))


def launch_task(widget_id: str, name: str, args: list, kwargs: dict, actor_id: int | None) -> Run:
    """Queue the widget's background task `name`; refuses past TASKS_PER_USER active tasks."""
    widget = db.session.get(Widget, widget_id)
    if widget is None:
        raise TaskLaunchError("This widget no longer exists.")
    limit = int(current_app.config["TASKS_PER_USER"])
    if history.active_task_count(widget.owner_id) >= limit:
        raise TaskLaunchError(
            f"Too many background tasks: an account may have at most {limit} queued or running. "
            "Wait for one to finish (or kill one) and launch again."
        )
    payload = json.dumps({"args": list(args), "kwargs": dict(kwargs)})
    run = history.new_run(widget_id, "task", actor_id, task_name=name[:100], args_json=payload)
    enqueue_run(run.id)
    return run


def _runs_on_queue() -> bool:
    # RUNS_ON is a choice of "web" or "queue", checked at start-up (pyspace/config.py).
    return current_app.config["RUNS_ON"] == "queue"


def run_and_record(widget: Widget, actor_id: int | None) -> RunResult:
    """Run the widget's saved server code once (a Run press) and record it."""
    return _interactive(widget, "run", actor_id, None)


def call_and_record(
    widget: Widget, fn_name: str, args: list, kwargs: dict, actor_id, session_id=None
) -> RunResult:
    """Call a server function of the widget (a GUI call) and record it; the result's
    `as_call_result()` is the answer for the frame. `session_id` names the visitor session
    whose anvil.server.session the call uses."""
    call = {"name": str(fn_name), "args": list(args or []), "kwargs": dict(kwargs or {})}
    if session_id:
        call["session"] = session_id
    return _interactive(widget, "call", actor_id, call)


def endpoint_call_and_record(
    widget: Widget, http: dict, actor_id: int | None, session_id: str | None = None
) -> RunResult:
    """Answer an HTTP request to an endpoint of the widget (`http` is the request as the
    runtime's dispatcher takes it) and record it; the result is the HTTP answer. `session_id`
    names the visitor session whose anvil.server.session it uses (cross_site_session)."""
    call = {"name": str(http["endpoint"]), "args": [], "kwargs": {}, "http": http}
    if session_id:
        call["session"] = session_id
    return _interactive(widget, "http", actor_id, call)


def _interactive(widget: Widget, kind: str, actor_id: int | None, call: dict | None) -> RunResult:
    name = call["name"][:100] if call else None
    if _runs_on_queue():
        run = history.new_run(
            widget.id, kind, actor_id, task_name=name, args_json=json.dumps(call) if call else None
        )
        enqueue_run(run.id)
        return _wait_for(run.id)
    # In the web process the run is recorded once it ended (one write on the Run press's path);
    # it has no row to watch while it runs, which only tasks need (task_state, kill, heartbeat).
    # The id is read now: any commit while the code runs (a secret's use, a table row it adds)
    # expires `widget`, and reading `widget.id` after that would load the whole widget again.
    widget_id, started_at = widget.id, utcnow()
    if call is None:
        result = run_widget(widget, actor_id)
    elif "http" in call:
        result = call_endpoint(widget, call, actor_id)
    else:
        result = call_function(
            widget, call["name"], call["args"], call["kwargs"], actor_id, call.get("session")
        )
    history.record_finished(widget_id, kind, actor_id, result, started_at, task_name=name)
    return result


def _wait_for(run_id: int) -> RunResult:
    """Wait for a worker to finish a queued interactive run (RUNS_ON=queue)."""
    config = current_app.config
    deadline = time.monotonic() + float(config["RUN_WALL_SECONDS"]) + 30
    while time.monotonic() < deadline:
        db.session.expire_all()
        run = db.session.get(Run, run_id)
        if run is None:
            break
        if not run.is_active:
            return history.result_of(run)
        time.sleep(0.02)
    db.session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "queued")
        .values(status="killed", finished_at=utcnow(), error_type="ServerBusy")
    )
    db.session.commit()
    return failed("ServerBusy", "No worker answered in time. Please try again in a moment.")


def execute_next_run() -> int | None:
    """A consumer's job: claim the queued run fairest to start now (`history.claim_next_run`,
    round-robin across accounts), run it and store the outcome. Returns its id, None if no run
    was queued. The queue's message is only the signal that a run is waiting: whichever run
    its id names, the fairest one goes first."""
    run_id = history.claim_next_run()
    if run_id is not None:
        _execute_claimed(run_id)
    return run_id


def execute_run(run_id: int) -> None:
    """Execute this queued run here: claim it, run it, store the outcome."""
    if history.claim_run(run_id):
        _execute_claimed(run_id)


def _execute_claimed(run_id: int) -> None:
    run = db.session.get(Run, run_id)
    widget = db.session.get(Widget, run.widget_id) if run else None
    if run is None or widget is None:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    payload = json.loads(run.args_json) if run.args_json else {}
    call: dict | None
    if run.kind in TASK_KINDS:
        call = {
            "name": run.task_name,
            "args": payload.get("args", []),
            "kwargs": payload.get("kwargs", {}),
            "background": True,
        }
    else:
        call = payload or None
    # Only the owner sees `***` in place; what anyone else started is withheld whole. A
    # schedule is the owner's own (Run now or the timetable), whoever's id the run carries.
    # An HTTP endpoint's answer goes to whoever sent the request, never only to the owner.
    for_owner = run.kind == "scheduled" or (
        run.kind != "http" and run.actor_id is not None and run.actor_id == widget.owner_id
    )
    result, killed = _execute(
        app, run.id, widget, run.actor_id, call, for_owner, task=run.kind in TASK_KINDS
    )
    history.finish_run(run_id, result, killed=killed)


def _execute(
    app: Flask,
    run_id: int,
    widget: Widget,
    actor_id,
    call: dict | None,
    for_owner: bool,
    task: bool = False,
) -> tuple[RunResult, bool]:
    runner = runner_for(app)
    limits = runner.settings.limits
    if task:
        limits = replace(limits, wall_seconds=float(app.config["TASK_WALL_SECONDS"]))
    watcher = RunWatcher(app, run_id)
    watcher.start()
    try:
        result = runner.run(
            widget.id,
            widget.module_sources(),
            actor_id,
            call,
            viewer_is_owner=for_owner,
            # A task counts against its widget owner's share of tasks: never against one
            # shared by every schedule on the site (a schedule has no actor), nor against the
            # Run presses the owner is making meanwhile. (Interactive runs: the actor's.)
            share_key=f"tasks:{widget.owner_id}" if task else None,
            limits=limits,
            run_id=run_id,
            on_start=watcher.attach,
        )
    finally:
        watcher.stop()
    return result, watcher.killed


class RunWatcher(threading.Thread):
    """Beside a running run: beats its heartbeat, and kills its sandbox when a kill is asked
    for (Task.kill()) or the run's widget is deleted."""

    def __init__(self, app: Flask, run_id: int):
        super().__init__(name=f"run-watcher-{run_id}", daemon=True)
        self.app = app
        self.run_id = run_id
        self.killed = False
        self._sandbox: Sandbox | None = None
        self._stopping = threading.Event()
        self._beat_every = float(app.config["TASK_HEARTBEAT_SECONDS"])

    def attach(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)

    def run(self) -> None:
        last_beat = time.monotonic()
        while not self._stopping.wait(KILL_POLL_SECONDS):
            try:
                with self.app.app_context():
                    wanted = db.session.scalar(
                        select(Run.kill_requested).where(Run.id == self.run_id)
                    )
                    if (wanted is None or wanted) and self._kill():
                        return
                    if time.monotonic() - last_beat >= self._beat_every:
                        db.session.execute(
                            update(Run).where(Run.id == self.run_id).values(heartbeat_at=utcnow())
                        )
                        db.session.commit()
                        last_beat = time.monotonic()
            except Exception:  # a database hiccup must not end the watch
                log.exception("run watcher for run %s", self.run_id)

    def _kill(self) -> bool:
        sandbox = self._sandbox
        if sandbox is None:
            return False  # not started yet: kill it as soon as it is
        self.killed = True
        # The sandbox's own first process takes everything in it along (as Sandbox.destroy).
        pid = sandbox.process.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as listing:
                children = [int(child) for child in listing.read().split()]
        except OSError:
            children = []
        for child in children or [pid]:
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
        return True
