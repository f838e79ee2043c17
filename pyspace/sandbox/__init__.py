"""Running widget server code in a bubblewrap sandbox, with a warm pool of ready sandboxes.

Public interface (all need an app context; what the code asks for over its channel is answered
by the channel services of `services.py`, scoped to the widget the run was started for):

- `run_widget(widget, actor_id) -> RunResult`: run a widget's saved server code once.
- `call_function(widget, fn_name, args, kwargs, actor_id) -> dict`: run the server code's top
  level, then call the function it registered with `@anvil.server.callable`, in a fresh sandbox.
  Returns `{"ok": True, "result": ...}` or `{"ok": False, "error": {"type": ..., "message": ...}}`;
  results are JSON values with every secret value the run read replaced by `***`.
- `runner_for(app)`: the app's runner (its pool, for benchmarks); `shutdown_runner(app)`.

Configuration keys and defaults: see `pyspace.sandbox.settings`. Where bubblewrap can't start,
runs are refused with a clear message unless ALLOW_UNSANDBOXED_RUNS is set (unsafe: widget
code then runs as a plain process, with only rlimits between it and the server).
"""

import atexit
import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app

from .bwrap import Sandbox, bubblewrap_problem, start_sandbox
from .execution import execute
from .pool import WarmPool
from .results import RunResult, failed
from .services import RunContext, channel_services
from .settings import Limits, RunnerSettings, settings_from_config

__all__ = ["RunResult", "call_function", "run_widget", "runner_for", "shutdown_runner"]

log = logging.getLogger(__name__)
_creating = threading.Lock()


class Runner:
    """One app's runner: its settings, its warm pool and its cap on concurrent runs."""

    def __init__(self, settings: RunnerSettings):
        self.settings = settings
        self.problem = bubblewrap_problem()
        self.sandboxed = self.problem is None
        self._slots = threading.BoundedSemaphore(settings.max_concurrent)
        self.pool = None
        if self.usable and settings.pool_size > 0:
            self.pool = WarmPool(self.start_sandbox, settings.pool_size)

    @property
    def usable(self) -> bool:
        return self.sandboxed or self.settings.allow_unsandboxed

    def start_sandbox(self) -> Sandbox:
        """A fresh sandbox with this app's limits (cold: Python starts now)."""
        return start_sandbox(self.settings.limits, self.settings.packages_dir, self.sandboxed)

    def take_sandbox(self) -> tuple[Sandbox, bool]:
        """A never-used sandbox, warm from the pool when one is ready."""
        if self.pool is not None:
            return self.pool.take()
        return self.start_sandbox(), False

    def run(
        self,
        widget_id: str,
        code: str,
        actor_id: int | None,
        call: dict | None = None,
        *,
        limits: Limits | None = None,
        run_id: int | None = None,
        on_start: Callable[[Sandbox], None] | None = None,
    ) -> RunResult:
        """Run `code` for `widget_id` in a sandbox of its own and return the redacted result.

        `limits` replaces the app's wall time and output limits for this run (background tasks
        run longer); `run_id` is the run's history row, given to the channel services;
        `on_start(sandbox)` is told the sandbox the code runs in (so a task can be killed)."""
        limits = limits or self.settings.limits
        if not self.usable:
            log.error("refusing to run widget code: %s", self.problem)
            return failed(
                "SandboxUnavailable",
                f"This server can't run code safely right now: {self.problem} "
                "Ask the administrator to install bubblewrap.",
            )
        if not self._slots.acquire(timeout=self.settings.limits.wall_seconds):
            return failed(
                "ServerBusy",
                "The server is busy running other widgets. Please try again in a moment.",
            )
        try:
            sandbox, warm = self.take_sandbox()
            if on_start is not None:
                on_start(sandbox)
            result = execute(
                sandbox,
                {"code": code, "call": call},
                limits,
                RunContext(widget_id=widget_id, actor_id=actor_id, run_id=run_id),
                channel_services(),
            )
            result.warm = warm
            return result
        except OSError:
            log.exception("could not start a sandbox")
            return failed("SandboxError", "The sandbox could not be started. Please try again.")
        finally:
            if self.pool is not None:
                self.pool.run_finished()
            self._slots.release()

    def shutdown(self) -> None:
        """Kill the warm sandboxes and stop refilling the pool."""
        if self.pool is not None:
            self.pool.shutdown()


def runner_for(app: Flask) -> Runner:
    """The app's runner, created (and its pool started) on first use."""
    runner = app.extensions.get("runner")
    if runner is None:
        with _creating:
            runner = app.extensions.get("runner")
            if runner is None:
                runner = Runner(settings_from_config(app.config))
                app.extensions["runner"] = runner
                atexit.register(runner.shutdown)
    return runner


def shutdown_runner(app: Flask) -> None:
    """Shut the app's warm pool down cleanly (tests, and the end of a worker)."""
    runner = app.extensions.pop("runner", None)
    if runner is not None:
        runner.shutdown()
        atexit.unregister(runner.shutdown)


def run_widget(widget, actor_id: int | None) -> RunResult:
    """Run `widget`'s saved server code once, started by `actor_id` (None: anonymous)."""
    app = current_app._get_current_object()
    return runner_for(app).run(widget.id, widget.server_code, actor_id)


def call_function(widget, fn_name: str, args: list, kwargs: dict, actor_id) -> dict:
    """Call `fn_name(*args, **kwargs)` registered by `widget`'s server code, in a fresh sandbox."""
    app = current_app._get_current_object()
    call = {"name": str(fn_name), "args": list(args or []), "kwargs": dict(kwargs or {})}
    return runner_for(app).run(widget.id, widget.server_code, actor_id, call).as_call_result()
