"""The scheduler loop: a thread of every queue consumer (`tasks/cli.py`) that calls
`schedules.tick` every SCHEDULER_TICK_SECONDS. Claiming occurrences in the database makes each
fire once however many consumers run the loop."""

import logging
import threading

from flask import Flask

from .schedules import tick

log = logging.getLogger(__name__)


def scheduler_loop(app: Flask, stopping: threading.Event) -> None:
    """Run `tick` every SCHEDULER_TICK_SECONDS until `stopping` is set."""
    interval = max(0.05, float(app.config["SCHEDULER_TICK_SECONDS"]))
    while not stopping.wait(interval):
        try:
            with app.app_context():
                tick()
        except Exception:  # a database hiccup: try again at the next tick
            log.exception("scheduler tick failed")
