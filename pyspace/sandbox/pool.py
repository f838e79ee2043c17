"""The warm pool: sandboxes started ahead of time, so a run skips starting Python.

Each pooled sandbox has already started bubblewrap and Python and imported the runtime; it
knows nothing of any widget until a run takes it. It is used for exactly one run and then
killed — never shared between runs or widgets — and background threads start its
replacement. The pool is bounded (`size`) and shut down with the app.

The replacement is started once the runs in flight have finished and the server has had
QUIET_BEFORE_REFILL to send their answers (unless the pool ran dry): on a small machine a Python
start-up competing for the CPU with a run doubles that run's time, and starting one forks this
(large) process, holding the GIL, while the finished run's response is still being written.
Replacements are started by one thread per CPU, so a class's worth of used sandboxes (a burst
of Run presses) is replaced in the seconds before the next burst, not one after another.

How many: RUN_POOL_SIZE, by default sized to the machine's memory (`settings.auto_pool_size`).
"""

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from .bwrap import Sandbox

log = logging.getLogger(__name__)
# How long a new sandbox may take to get ready before it is given up on.
READY_TIMEOUT = 10.0
# How long after the last run finished the refill waits (its answer is recorded and sent then).
QUIET_BEFORE_REFILL = 0.1


class WarmPool:
    """Up to `size` ready sandboxes made by `start`, handed out once each."""

    def __init__(self, start: Callable[[], Sandbox], size: int, preload: tuple[str, ...] = ()):
        self._start = start
        self.size = size
        # Packages each pooled sandbox imports while it waits, so runs that use them skip that.
        self.preload = preload
        self._idle: deque[Sandbox] = deque()
        self._changed = threading.Condition()
        self._closed = False
        self._in_flight = 0
        self._last_finished = 0.0
        # Sandboxes being started right now: counted so the fillers never overshoot `size`.
        self._starting = 0
        self._created = time.monotonic()
        self._reported_full = False
        self._threads = [
            threading.Thread(target=self._keep_filled, name=f"sandbox-pool-{n}", daemon=True)
            for n in range(max(1, min(size, os.cpu_count() or 1)))
        ]
        for thread in self._threads:
            thread.start()

    def take(self) -> tuple[Sandbox, bool]:
        """A sandbox for one run, and whether it came warm from the pool.

        When the pool is empty (a burst of runs) the run starts its own sandbox: waiting for
        the background threads would be no faster.
        """
        with self._changed:
            self._in_flight += 1
            while self._idle:
                sandbox = self._idle.popleft()
                self._changed.notify_all()
                if sandbox.is_alive():
                    return sandbox, True
                sandbox.discard()
        return self._start(), False

    def run_finished(self) -> None:
        """Called once per `take` when its run is over: the pool may now refill."""
        with self._changed:
            self._in_flight -= 1
            self._last_finished = time.monotonic()
            self._changed.notify_all()

    def idle_count(self) -> int:
        """How many ready sandboxes wait right now."""
        with self._changed:
            return len(self._idle)

    def wait_until_full(self, timeout: float) -> bool:
        """Block until the pool holds `size` ready sandboxes (benchmarks and tests)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._idle) < self.size and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return len(self._idle) >= self.size

    def shutdown(self) -> None:
        """Stop refilling and kill every idle sandbox (waits for them to be reaped)."""
        with self._changed:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout=READY_TIMEOUT + 1)
        for sandbox in idle:
            sandbox.destroy()

    def _keep_filled(self) -> None:
        failures = 0
        while True:
            with self._changed:
                if not self._wait_for_refill_turn():
                    return
                self._starting += 1
            try:
                sandbox = self._ready_sandbox()
            finally:
                with self._changed:
                    self._starting -= 1
            if sandbox is not None:
                failures = 0
                with self._changed:
                    if not self._closed:
                        self._idle.append(sandbox)
                        self._report_first_fill()
                        self._changed.notify_all()
                        continue
                sandbox.destroy()
                return
            # A machine that can't start sandboxes must not be hammered in a tight loop.
            failures += 1
            with self._changed:
                self._changed.wait(min(30.0, 0.1 * 2**failures))

    def _wait_for_refill_turn(self) -> bool:
        """Called with the lock held: wait until a sandbox should be started (True) or the pool
        is closed (False). A pool that ran dry refills at once; otherwise only when no run is
        in flight and the last one finished QUIET_BEFORE_REFILL ago."""
        while not self._closed:
            if len(self._idle) + self._starting >= self.size or (self._in_flight and self._idle):
                self._changed.wait()
                continue
            quiet_for = time.monotonic() - self._last_finished
            if self._idle and quiet_for < QUIET_BEFORE_REFILL:
                self._changed.wait(QUIET_BEFORE_REFILL - quiet_for)
                continue
            return True
        return False

    def _ready_sandbox(self) -> Sandbox | None:
        """A new sandbox that has started and finished its preload, or None (logged)."""
        try:
            sandbox = self._start()
        except OSError:
            log.exception("could not start a sandbox for the warm pool")
            return None
        # Only a sandbox that has finished importing is handed out: a run must never wait
        # behind a preload (a cold start is faster than that).
        if sandbox.wait_ready(READY_TIMEOUT) and (
            not self.preload or sandbox.preload(self.preload, READY_TIMEOUT)
        ):
            return sandbox
        sandbox.discard()
        return None

    def _report_first_fill(self) -> None:
        # Called with the lock held. Operators (and the benchmarks) learn when the pool is ready.
        if not self._reported_full and len(self._idle) >= self.size:
            self._reported_full = True
            log.info(
                "warm pool full: %d sandboxes ready %.1f s after start",
                self.size,
                time.monotonic() - self._created,
            )
