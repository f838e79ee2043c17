"""Fair shares of the run slots: one account can't take the site down.

`FairQueue` replaces a plain semaphore in front of the sandboxes:

- an account (or, not logged in, an address) has at most `per_key` runs in flight — running or
  waiting; one more is refused at once (`TooManyRuns`, a 429), so a flood never ties up request
  threads waiting for slots it would hog anyway;
- at most `max_waiting` runs wait; more are refused at once (`ServerBusy`, a 503);
- when a slot frees, it goes to the waiting run whose account has the fewest runs going, then
  the account served longest ago, then the earliest arrival: a queued run waits in fair order
  across accounts, not behind everything one account queued first;
- a run that has waited `timeout` seconds gives up (`ServerBusy`).

Page loads never queue behind runs: `request_threads` gives the web server enough threads for
every run in flight plus `PAGE_THREADS` that only ever serve pages (`manage.sh serve` uses it).

The counts live in the process that keeps the warm pool: the machine's sandbox service, which
every web process and queue consumer asks (`service.py`), or each process where none is set.
"""

import contextlib
import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

# Request threads kept for pages whatever the runs do.
PAGE_THREADS = 8


class RunRefusedError(Exception):
    """A run that can't have a slot now; `kind` is the RunResult error type."""

    kind = "ServerBusy"

    def __init__(self, message: str, kind: str | None = None):
        super().__init__(message)
        if kind is not None:
            # A refusal passed on from the sandbox service keeps the kind it was given there.
            self.kind = kind


class TooManyRunsError(RunRefusedError):
    kind = "TooManyRuns"


class ServerBusyError(RunRefusedError):
    kind = "ServerBusy"


class SandboxUnavailableError(RunRefusedError):
    """No sandbox can start on this machine (the log says why), or its service is down."""

    kind = "SandboxUnavailable"


@dataclass
class _Ticket:
    key: str
    number: int
    granted: bool = field(default=False)


class FairQueue:
    """`slots` runs at once, shared fairly between accounts (see the module docstring)."""

    def __init__(self, slots: int, per_key: int, max_waiting: int):
        self.slots = slots
        self.per_key = per_key
        self.max_waiting = max_waiting
        self._changed = threading.Condition()
        self._free = slots
        self._running: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._last_served: dict[str, int] = {}
        self._waiting: list[_Ticket] = []
        self._numbers = itertools.count()

    @contextlib.contextmanager
    def slot(self, key: str, timeout: float) -> Iterator[None]:
        """Hold one slot for `key` for the duration of the block, or raise RunRefusedError."""
        self._acquire(key, timeout)
        try:
            yield
        finally:
            with self._changed:
                self._free += 1
                self._running[key] -= 1
                self._forget(key)
                self._grant()

    def waiting_count(self) -> int:
        with self._changed:
            return len(self._waiting)

    def _acquire(self, key: str, timeout: float) -> None:
        with self._changed:
            if self._in_flight[key] >= self.per_key:
                raise TooManyRunsError(
                    f"You already have {self.per_key} runs going. Wait for one to finish, "
                    "then press Run again."
                )
            if len(self._waiting) >= self.max_waiting and not self._free:
                raise ServerBusyError(
                    "The server is busy running other widgets. Please try again in a moment."
                )
            ticket = _Ticket(key, next(self._numbers))
            self._in_flight[key] += 1
            self._waiting.append(ticket)
            self._grant()
            deadline = time.monotonic() + timeout
            while not ticket.granted:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._waiting.remove(ticket)
                    self._forget(key)
                    raise ServerBusyError(
                        "The server is busy running other widgets. Please try again in a moment."
                    )
                self._changed.wait(remaining)

    def _grant(self) -> None:
        # Called with the lock held: hand free slots to the fairest waiting runs.
        granted = False
        while self._free and self._waiting:
            ticket = min(
                self._waiting,
                key=lambda t: (
                    self._running[t.key],
                    self._last_served.get(t.key, -1),
                    t.number,
                ),
            )
            self._waiting.remove(ticket)
            ticket.granted = granted = True
            self._free -= 1
            self._running[ticket.key] += 1
            self._last_served[ticket.key] = next(self._numbers)
        if granted:
            self._changed.notify_all()

    def _forget(self, key: str) -> None:
        self._in_flight[key] -= 1
        if self._in_flight[key] <= 0:
            del self._in_flight[key]
            self._running.pop(key, None)
            self._last_served.pop(key, None)


def request_threads(max_concurrent: int, max_waiting: int) -> int:
    """Threads a web process needs so that pages never wait behind runs."""
    return max_concurrent + max_waiting + PAGE_THREADS


def request_threads_from_environment() -> int:
    """gunicorn's request threads for the configuration in the environment (see
    `pyspace/gunicorn_config.py`)."""
    from ..config import SETTINGS_BY_NAME, config_from_environment

    config = config_from_environment()

    def setting(name: str) -> int:
        return int(config.get(name, SETTINGS_BY_NAME[name].default))

    return request_threads(setting("RUN_MAX_CONCURRENT"), setting("RUN_QUEUE_LENGTH"))
