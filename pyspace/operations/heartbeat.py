"""The queue consumer's heartbeat: a file in instance/ whose modification time the consumer
moves forward every few seconds while it runs. `/healthz` reads its age (no database write on
either side). A worker host has its own instance/: set HEALTH_CONSUMER_SECONDS=0 on web hosts
whose consumers run on other machines."""

import contextlib
import os
import threading
import time

from flask import Flask

HEARTBEAT_FILE = "consumer.heartbeat"
BEAT_SECONDS = 5.0


def heartbeat_path(app: Flask) -> str:
    return os.path.join(app.instance_path, HEARTBEAT_FILE)


def beat(app: Flask) -> None:
    """Say the consumer is alive now."""
    path = heartbeat_path(app)
    with open(path, "a"):
        pass
    os.utime(path)


def heartbeat_loop(app: Flask, stopping: threading.Event, interval: float = BEAT_SECONDS) -> None:
    """Beat every `interval` seconds until `stopping` is set."""
    while True:
        # A full or read-only disk stops the beats, and /healthz says so.
        with contextlib.suppress(OSError):
            beat(app)
        if stopping.wait(interval):
            return


def beat_age(app: Flask) -> float | None:
    """Seconds since the consumer last beat, or None if no consumer ever did."""
    try:
        return max(0.0, time.time() - os.stat(heartbeat_path(app)).st_mtime)
    except FileNotFoundError:
        return None


def start_consumer_threads(app: Flask, stopping: threading.Event) -> None:
    """The operations threads every queue consumer runs until `stopping` is set: the heartbeat
    /healthz reads and, with BACKUP_DIR set, the daily backup."""
    from .scheduled import backup_loop

    threading.Thread(
        target=heartbeat_loop, args=(app, stopping), name="heartbeat", daemon=True
    ).start()
    if app.config.get("BACKUP_DIR"):
        threading.Thread(
            target=backup_loop, args=(app, stopping), name="backups", daemon=True
        ).start()
