"""Running widget server code in a bubblewrap sandbox, with a warm pool of ready sandboxes.

Public interface (all need an app context; what the code asks for over its channel is answered
by the channel services of `services.py`, scoped to the widget the run was started for):

- `run_widget(widget, actor_id) -> RunResult`: run a widget's saved server code once.
- `call_function(widget, fn_name, args, kwargs, actor_id) -> RunResult`: run the server code's
  top level, then call the function it registered with `@anvil.server.callable`, in a fresh
  sandbox; `.as_call_result()` is `{"ok": True, "result": ...}` or
  `{"ok": False, "error": {"type": ..., "message": ...}}`.

For the widget's owner every secret value the run read is replaced by `***`; for anyone else
(`actor_id` is not the owner's) a field that held one is withheld whole (`RunResult.withheld`).
- `runner_for(app)`: the app's runner (its pool, for benchmarks); `shutdown_runner(app)`.

Runs wait for a slot in a fair queue (`fairness.py`): an account with too many runs going gets
a `TooManyRuns` error at once (routes answer 429), a full or slow queue `ServerBusy` (503).
Where SANDBOX_SERVICE names the machine's sandbox service (`service.py`), the queue and the warm
pool are its, shared by every process (`ServiceRunner`); otherwise this process's own
(`LocalRunner`, which is also what the service itself runs).

Configuration keys and defaults: see `pyspace.sandbox.settings`; what every sandbox is started
with (runtime copy, seccomp filter, cgroup): `host.py`. Where a sandbox can't start, runs are
refused (the log and `./manage.sh serve` give the cause and the fix) unless
ALLOW_UNSANDBOXED_RUNS is set (unsafe: widget code then runs as a plain process, with only
rlimits between it and the server).
"""

import atexit
import contextlib
import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Iterator

from flask import Flask, current_app, has_request_context, request
from flask_limiter.util import get_remote_address

from ..counters import SANDBOX_STARTS, SANDBOXES_TAKEN
from .bwrap import Sandbox, bubblewrap_problem, start_sandbox
from .exchange import execute
from .fairness import FairQueue, RunRefusedError, SandboxUnavailableError
from .host import HostProblemError, SandboxHost, host_for
from .install import InstallError, shared_files
from .network import network_problem, sweep_leftover_helpers
from .pool import READY_TIMEOUT, WarmPool
from .results import RunResult, failed
from .services import ChannelServices, RunContext, services_for
from .settings import Limits, RunnerSettings, settings_from_config

__all__ = [
    "RunResult",
    "call_endpoint",
    "call_function",
    "run_widget",
    "runner_for",
    "shutdown_runner",
]

log = logging.getLogger(__name__)

# How many times a run starts its own sandbox before it gives up (see take_sandbox).
START_ATTEMPTS = 3
_creating = threading.Lock()


@dataclasses.dataclass(frozen=True)
class RunnerState:
    """What /healthz and the status page say about where runs go."""

    sandboxed: bool
    usable: bool
    problem: str | None
    # Ready sandboxes in the warm pool, and how many it keeps (0: no pool).
    idle: int
    pool_size: int


class Runner:
    """Runs widget code in sandboxes leased from `_lease` (this process's own, `LocalRunner`, or
    the machine's sandbox service, `service.ServiceRunner`), answering the code's requests here."""

    def __init__(self, settings: RunnerSettings, services: ChannelServices, role: str = "web"):
        self.settings = settings
        # Every area has registered its services by the time the first run starts.
        self.services = services
        # Whose fair queue runs wait in: the web processes' ("web") or the consumer's.
        self.role = role

    def state(self) -> RunnerState:
        raise NotImplementedError

    def _lease(
        self, key: str, wall_seconds: float
    ) -> contextlib.AbstractContextManager[tuple[Sandbox, bool]]:
        """A slot in the fair queue for `key` and a never-used sandbox for the block (a run of
        at most `wall_seconds`), and whether it came warm; raises RunRefusedError."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Stop what this runner started (its warm pool)."""

    def run(
        self,
        widget_id: str,
        code: str | list[tuple[str, str]],
        actor_id: int | None,
        call: dict | None = None,
        share_key: str | None = None,
        viewer_is_owner: bool = False,
        *,
        limits: Limits | None = None,
        run_id: int | None = None,
        on_start: Callable[[Sandbox], None] | None = None,
    ) -> RunResult:
        """Run `code` for `widget_id` in a sandbox of its own and return the redacted result
        (masked for the owner, `viewer_is_owner`; fields with a secret withheld for others).

        `share_key` names whose fair share the run counts against (default: the account);
        `limits` replaces the app's wall time and output limits for this run (background tasks
        run longer); `run_id` is the run's history row, given to the channel services;
        `on_start(sandbox)` is told the sandbox the code runs in (so a task can be killed)."""
        limits = limits or self.settings.limits
        context = RunContext(
            widget_id=widget_id,
            actor_id=actor_id,
            viewer_is_owner=viewer_is_owner,
            run_id=run_id,
            session_id=(call or {}).get("session"),
        )
        job = {
            **job_for(code, call),
            "widget_id": widget_id,
            "context": call_context(call, run_id),
            **site_origins(widget_id),
        }
        try:
            with self._lease(share_key or f"account:{actor_id}", limits.wall_seconds) as (
                sandbox,
                warm,
            ):
                SANDBOXES_TAKEN.labels("warm" if warm else "cold").inc()
                if on_start is not None:
                    on_start(sandbox)
                result = execute(sandbox, job, limits, context, self.services)
                result.warm = warm
                return result
        except RunRefusedError as refusal:
            return failed(refusal.kind, str(refusal))
        except OSError:
            log.exception("could not start a sandbox")
            return failed("SandboxError", "The sandbox could not be started. Please try again.")


class LocalRunner(Runner):
    """Sandboxes started by this process: its warm pool and its fair queues (the sandbox
    service's runner, or every process's own where no service is configured)."""

    def __init__(
        self,
        settings: RunnerSettings,
        services: ChannelServices,
        sweep_leftovers: bool = False,
        role: str = "web",
    ):
        super().__init__(settings, services, role)
        self.host: SandboxHost | None = None
        try:
            self.host = host_for(settings)
            self.problem = bubblewrap_problem(self.host, settings.limits)
        except HostProblemError as error:
            self.problem = str(error)
        if self.problem:
            log.error("sandboxes can't start here: %s", self.problem)
        self.sandboxed = self.problem is None
        if self.sandboxed and settings.limits.network and network_problem():
            # Never the host's network: without pasta a run gets no network at all.
            log.warning("runs get no network: %s", network_problem())
            limits = dataclasses.replace(settings.limits, network=False)
            settings = dataclasses.replace(settings, limits=limits)
        elif self.sandboxed and settings.limits.network and sweep_leftovers:
            sweep_leftover_helpers()
        self.settings = settings
        # One fair queue per role: the consumer's tasks never take the slots Run presses need.
        self._queues: dict[str, FairQueue] = {}
        self._queues_lock = threading.Lock()
        self.queue = self.queue_for(role)
        self.pool = None
        if self.usable and settings.pool_size > 0:
            self.pool = WarmPool(self.start_sandbox, settings.pool_size, settings.preload_modules)

    @property
    def usable(self) -> bool:
        return self.sandboxed or self.settings.allow_unsandboxed

    def state(self) -> RunnerState:
        pool = self.pool
        return RunnerState(
            sandboxed=self.sandboxed,
            usable=self.usable,
            problem=self.problem,
            idle=pool.idle_count() if pool is not None else 0,
            pool_size=pool.size if pool is not None else 0,
        )

    def queue_for(self, role: str) -> FairQueue:
        """The fair queue runs of `role` wait in (made on first use)."""
        with self._queues_lock:
            queue = self._queues.get(role)
            if queue is None:
                settings = self.settings
                queue = self._queues[role] = FairQueue(
                    settings.max_concurrent, settings.per_user_concurrent, settings.queue_length
                )
            return queue

    def start_sandbox(self) -> Sandbox:
        """A fresh sandbox with this app's limits (cold: Python starts now)."""
        SANDBOX_STARTS.inc()
        if not self.sandboxed:
            runtime_dir, packages_dir = self._plain_process_files()
            return start_sandbox(self.settings.limits, packages_dir, False, runtime_dir=runtime_dir)
        # Sandboxed means the host was set up (see __init__).
        assert self.host is not None
        return start_sandbox(self.settings.limits, self.host.packages_dir, host=self.host)

    def _plain_process_files(self) -> tuple[str, str]:
        """The runtime and packages an unsandboxed run reads: the world-readable copy that
        sandboxes use (as root the process runs as uid 65534, which can't read a checkout in
        a 0700 folder such as /root), or the checkout's own where no copy could be made."""
        if self.host is not None:
            return self.host.runtime_dir, self.host.packages_dir
        settings = self.settings
        try:
            files = shared_files(
                settings.runtime_dir, settings.packages_dir, os.path.abspath(settings.share_dir)
            )
        except InstallError:
            return settings.runtime_dir, settings.packages_dir
        return files.runtime_dir, files.packages_dir

    def take_sandbox(self) -> tuple[Sandbox, bool]:
        """A never-used sandbox, warm from the pool when one is ready.

        A sandbox started for this run that dies before it is ready is replaced, up to
        START_ATTEMPTS starts in all: when several start at once, bubblewrap now and then fails
        to set up the run's loopback interface ("loopback: Failed RTM_NEWADDR") and exits, and
        on a busy machine the replacement can meet the same race. The warm pool's own starts
        are checked the same way before they are handed out."""
        if self.pool is not None:
            sandbox, warm = self.pool.take()
        else:
            sandbox, warm = self.start_sandbox(), False
        if warm:
            return sandbox, True
        for _ in range(START_ATTEMPTS - 1):
            if sandbox.wait_ready(READY_TIMEOUT):
                return sandbox, False
            log.warning(
                "a sandbox exited while starting (status %s); starting another",
                sandbox.process.poll(),
            )
            sandbox.discard()
            sandbox = self.start_sandbox()
        # The last start is handed over unchecked: if it died too, the run reports it.
        return sandbox, False

    def _lease(
        self, key: str, wall_seconds: float
    ) -> contextlib.AbstractContextManager[tuple[Sandbox, bool]]:
        return self.lease(self.role, key, self.settings.queue_seconds)

    @contextlib.contextmanager
    def lease(self, role: str, key: str, timeout: float) -> Iterator[tuple[Sandbox, bool]]:
        """`_lease` for runs of `role` waiting at most `timeout` seconds (the sandbox service
        leases for other processes through this)."""
        if not self.usable:
            log.error("refusing to run widget code: %s", self.problem)
            raise SandboxUnavailableError(
                "This server can't run code safely right now. Ask the administrator to look at "
                "the server's log (`./manage.sh serve` says what to fix)."
            )
        with self.queue_for(role).slot(key, timeout):
            try:
                yield self.take_sandbox()
            finally:
                if self.pool is not None:
                    self.pool.run_finished()

    def shutdown(self) -> None:
        """Kill the warm sandboxes and stop refilling the pool."""
        if self.pool is not None:
            self.pool.shutdown()


def job_for(code: str | list[tuple[str, str]], call: dict | None) -> dict:
    """The job message for `code`: one source, or (name, source) modules forming a package."""
    if isinstance(code, str):
        return {"code": code, "call": call}
    if len(code) == 1:
        # One module runs exactly as a one-file widget always has.
        return {"code": code[0][1], "call": call}
    return {"modules": [{"name": name, "code": source} for name, source in code], "call": call}


def runner_for(app: Flask, role: str = "web") -> Runner:
    """The app's runner, created (and its pool started) on first use; `role` says whose fair
    queue its runs wait in (the queue consumer's runner is made as "consumer")."""
    runner = app.extensions.get("runner")
    if runner is None:
        with _creating:
            runner = app.extensions.get("runner")
            if runner is None:
                runner = _new_runner(app, role)
                app.extensions["runner"] = runner
                atexit.register(runner.shutdown)
    return runner


def _new_runner(app: Flask, role: str) -> Runner:
    settings = settings_from_config(app.config)
    socket_path = app.config.get("SANDBOX_SERVICE")
    if socket_path:
        from .service import ServiceRunner

        return ServiceRunner(settings, services_for(app), socket_path, role)
    # A starting site (the server, a worker) kills what dead processes left; a test leaves
    # other processes' helpers alone.
    return LocalRunner(settings, services_for(app), not app.testing, role)


def shutdown_runner(app: Flask) -> None:
    """Shut the app's warm pool down cleanly (tests, and the end of a worker)."""
    runner = app.extensions.pop("runner", None)
    if runner is not None:
        runner.shutdown()
        atexit.unregister(runner.shutdown)


def site_origins(widget_id: str) -> dict:
    """Where the site serves the widget (its page and its HTTP endpoints), for
    anvil.server.get_app_origin()/get_api_origin(); empty outside a web request (tasks)."""
    if not has_request_context():
        return {}
    root = request.host_url.rstrip("/")
    return {"api_origin": f"{root}/_/api/{widget_id}", "app_origin": f"{root}/widgets/{widget_id}"}


def call_context(call: dict | None, run_id: int | None) -> dict:
    """Who started a run, for anvil.server.context: the client's type (Anvil's words:
    "browser", "http", "background_task"), its address, and a background task's id."""
    if call and call.get("background"):
        return {"client_type": "background_task", "background_task_id": str(run_id)}
    if call and call.get("http") is not None:
        return {"client_type": "http", "ip": call["http"].get("remote_address")}
    ip = get_remote_address() if has_request_context() else None
    return {"client_type": "browser", "ip": ip}


def share_key(actor_id: int | None) -> str:
    """Whose fair share a run started now counts against: the account, or (not logged in) the
    client's address."""
    if actor_id is not None:
        return f"account:{actor_id}"
    return f"address:{get_remote_address() if has_request_context() else 'local'}"


def run_widget(widget, actor_id: int | None) -> RunResult:
    """Run `widget`'s saved server code once, started by `actor_id` (None: anonymous)."""
    # current_app is a proxy at run time: the runner keeps the app object itself.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return runner_for(app).run(
        widget.id,
        widget.module_sources(),
        actor_id,
        share_key=share_key(actor_id),
        viewer_is_owner=_is_owner(widget, actor_id),
    )


def call_function(
    widget, fn_name: str, args: list, kwargs: dict, actor_id, session_id: str | None = None
) -> RunResult:
    """Call `fn_name(*args, **kwargs)` registered by `widget`'s server code, in a fresh sandbox
    (with the visitor session `session_id`'s anvil.server.session, when given)."""
    # current_app is a proxy at run time: the runner keeps the app object itself.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    call = {"name": str(fn_name), "args": list(args or []), "kwargs": dict(kwargs or {})}
    if session_id:
        call["session"] = session_id
    return runner_for(app).run(
        widget.id,
        widget.module_sources(),
        actor_id,
        call,
        share_key=share_key(actor_id),
        viewer_is_owner=_is_owner(widget, actor_id),
    )


def call_endpoint(widget, call: dict, actor_id: int | None) -> RunResult:
    """Answer an HTTP request to one of `widget`'s endpoints (`call["http"]`) in a fresh
    sandbox. Its answer goes to whoever sent the request: never treated as the owner's."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return runner_for(app).run(
        widget.id, widget.module_sources(), actor_id, call, share_key=share_key(actor_id)
    )


def _is_owner(widget, actor_id: int | None) -> bool:
    # Whoever started the run sees its output: the Run button's user, or the call token's viewer.
    return actor_id is not None and actor_id == widget.owner_id
