"""What widget code may ask the host for over its channel, and for whom.

Every request from inside a sandbox (`{"op": "get_secret", ...}`, and whatever other areas add)
is answered by a *channel service*: a plain function `handler(request, run) -> answer` that
lives in the area it belongs to (`secrets/channel.py` answers `get_secret`). Handlers are
called in the host process with an app context, and must answer **for `run.widget_id` and
nothing else**, whatever names the request carries.

An answer is `{"ok": True, ...}` or `{"ok": False, "message": "..."}`; the message is shown to
the widget's code (and redacted like everything else it prints).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
    # Every secret value the run reads is added here, so its output can be masked.
    redactor: Redactor = field(default_factory=Redactor)
    # One dict per service, for what it remembers within this run (values read, counters).
    memo: dict[str, Any] = field(default_factory=dict)


Answer = dict[str, Any]
Handler = Callable[[dict, RunContext], Answer]


def channel_services() -> dict[str, Handler]:
    """Every op widget code may send, mapped to the area's handler that answers it."""
    from ..auth.channel import SERVICES as USER_SERVICES
    from ..secrets.channel import SERVICES as SECRET_SERVICES
    from ..tables.channel import SERVICES as TABLE_SERVICES
    from ..tasks.channel import SERVICES as TASK_SERVICES

    return {**SECRET_SERVICES, **USER_SERVICES, **TASK_SERVICES, **TABLE_SERVICES}


def refusal(message: str) -> Answer:
    """An answer that tells widget code why it gets nothing."""
    return {"ok": False, "message": message}
