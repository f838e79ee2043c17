"""What widget code may ask the host for over its channel, and for whom.

Every request from inside a sandbox (`{"op": "get_secret", ...}`, and whatever other areas add)
is answered by a *channel service*: a plain function `handler(request, run) -> answer` that
lives in the area it belongs to (`secrets/channel.py` answers `get_secret`). Each area adds its
services to the app's registry from its `init_app` (`services_for(app).add(SERVICES)`); the
sandbox never imports an area. Handlers are called in the host process with an app context,
and must answer **for `run.widget_id` and nothing else**, whatever names the request carries.

An answer is `{"ok": True, ...}` or `{"ok": False, "message": "..."}`; the message is shown to
the widget's code (and redacted like everything else it prints).
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from .redaction import Redactor


@dataclass
class RunContext:
    """Who a run is for: the channel services' only source of identity."""

    widget_id: str
    # The account that started the run (None: anonymous, or a schedule).
    actor_id: int | None
    # Whether the person who will see the output is the widget's owner (set by the caller of
    # the run). Only the owner sees `***` in place; for anyone else a field that held a secret
    # value is withheld whole, so where a mask falls tells them nothing.
    viewer_is_owner: bool = False
    # The run's row in the history (pyspace/tasks/), when it has one.
    run_id: int | None = None
    # The visitor session whose anvil.server.session the run uses (GUI calls), if any.
    session_id: str | None = None
    # Every secret value the run reads is added here, so its output can be masked.
    redactor: Redactor = field(default_factory=Redactor)
    # Set by a channel service that answered with another run's outcome withheld because it
    # held a secret value (a task's, `tasks/channel.py`): whatever this run shows anyone but
    # the owner is then withheld whole, as it may tell what the withheld outcome was.
    read_withheld: bool = False
    # One dict per service, for what it remembers within this run (values read, counters).
    memo: dict[str, Any] = field(default_factory=dict)


Answer = dict[str, Any]
Handler = Callable[[dict, RunContext], Answer]


class ChannelServices(Mapping[str, Handler]):
    """The ops widget code may send, each mapped to the one area handler that answers it."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def add(self, services: Mapping[str, Handler]) -> None:
        """Register an area's handlers; an op another area already answers is refused, so two
        areas can never both claim (or one silently replace) what a request means."""
        taken = sorted(set(services) & set(self._handlers))
        if taken:
            raise ValueError(f"channel op(s) already registered: {', '.join(taken)}")
        self._handlers.update(services)

    def __getitem__(self, op: str) -> Handler:
        return self._handlers[op]

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)


def services_for(app: Flask) -> ChannelServices:
    """The app's registry of channel services (made empty on first use)."""
    return app.extensions.setdefault("channel_services", ChannelServices())


def refusal(message: str) -> Answer:
    """An answer that tells widget code why it gets nothing."""
    return {"ok": False, "message": message}
