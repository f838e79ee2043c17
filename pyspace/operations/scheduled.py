"""Daily backups, written by the queue consumer when BACKUP_DIR is set, keeping the newest
BACKUP_KEEP. A lock file in the folder makes one consumer do it when several share a machine."""

import fcntl
import logging
import os
import threading
import time
from pathlib import Path

from flask import Flask

from .backup import write_backup

log = logging.getLogger(__name__)
PATTERN = "pyspace-backup-*.tar.gz"
DAY_SECONDS = 24 * 60 * 60
CHECK_SECONDS = 10 * 60


def backups_in(folder: Path) -> list[Path]:
    """The scheduled backups in `folder`, oldest first (their names sort by time)."""
    return sorted(folder.glob(PATTERN))


def backup_if_due(app: Flask, now: float | None = None) -> Path | None:
    """Write a backup into BACKUP_DIR if the newest is a day old (or there is none), then delete
    all but the newest BACKUP_KEEP. Returns the new archive, or None if none was due."""
    folder_setting = app.config.get("BACKUP_DIR") or ""
    if not folder_setting:
        return None
    folder = Path(folder_setting)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = time.time() if now is None else now
    with open(folder / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # another consumer is writing one
        existing = backups_in(folder)
        if existing and now - existing[-1].stat().st_mtime < DAY_SECONDS:
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        archive = folder / f"pyspace-backup-{stamp}.tar.gz"
        write_backup(app, archive)
        keep = max(1, int(app.config["BACKUP_KEEP"]))
        for old in backups_in(folder)[:-keep]:
            os.unlink(old)
        log.info("scheduled backup written to %s", archive)
        return archive


def backup_loop(app: Flask, stopping: threading.Event, interval: float = CHECK_SECONDS) -> None:
    """Check every `interval` seconds whether a daily backup is due, until `stopping` is set."""
    while not stopping.wait(interval):
        try:
            backup_if_due(app)
        except Exception:  # a full disk or a locked database: try again at the next check
            log.exception("scheduled backup failed")
