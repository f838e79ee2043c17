"""Slowing password guessing down without letting anyone lock a user out.

Failed log-ins are counted under keys, and each failure past a free allowance makes the next try
under that key wait longer (1 s, 2 s, 4 s … up to LOGIN_MAX_DELAY_SECONDS):

- a browser holding a device cookie for the account (it logged in to it before, see devices.py)
  counts only under that device: a stranger's guesses never slow its owner down (OWASP, "Slow
  Down Online Guessing Attacks with Device Cookies"). A device cookie used for guessing waits
  under its own key; meanwhile its browser is treated like any other;
- any other browser counts under (account, address) — a class of 40 behind one address each
  guess only their own account — and under the account's "untrusted" key, which has a much larger
  allowance (LOGIN_ACCOUNT_FREE_FAILURES) and only slows down browsers without a device cookie,
  so guessing spread over many addresses is slowed too.

Unknown usernames are counted exactly like real ones, so throttling says nothing about which
accounts exist. Counters live in the database, shared by every web process.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import LoginThrottle, utcnow

# A key with no failure for this long starts again from nothing.
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class ThrottleKey:
    key: str
    free_failures: int


def throttle_keys(username: str, address: str, device: str | None) -> list[ThrottleKey]:
    """The keys a log-in attempt for `username` counts under (see the module docstring).

    A device cookie that is itself being used to guess (stolen, or a shared computer) is
    throttled under its own key; while it waits, its browser counts as any other, so its owner
    can still log in from their usual address.
    """
    per_client = current_app.config["LOGIN_FREE_FAILURES"]
    if device:
        device_keys = [ThrottleKey(f"device:{device}", per_client)]
        if seconds_to_wait(device_keys) == 0:
            return device_keys
    return [
        ThrottleKey(f"address:{address}|account:{username}", per_client),
        ThrottleKey(
            f"untrusted|account:{username}", current_app.config["LOGIN_ACCOUNT_FREE_FAILURES"]
        ),
    ]


def delay_after(failures: int, free_failures: int, max_delay: int) -> int:
    """Seconds the next try must wait after `failures` failures in a row: 0 while free, then
    doubling from 1 second, never more than `max_delay`."""
    if failures < free_failures:
        return 0
    return min(2 ** min(failures - free_failures, 30), max_delay)


def seconds_to_wait(keys: list[ThrottleKey], now: datetime | None = None) -> int:
    """How long this attempt must wait (0: go ahead) — the longest wait of its keys."""
    now = now or utcnow()
    max_delay = current_app.config["LOGIN_MAX_DELAY_SECONDS"]
    rows = {
        row.key: row
        for row in db.session.scalars(
            db.select(LoginThrottle).where(LoginThrottle.key.in_([k.key for k in keys]))
        )
    }
    wait = 0.0
    for key in keys:
        row = rows.get(key.key)
        if row is None or now - row.last_failure_at > FORGET_AFTER:
            continue
        delay = delay_after(row.failures, key.free_failures, max_delay)
        wait = max(wait, delay - (now - row.last_failure_at).total_seconds())
    return max(0, int(wait + 0.999))


def record_failure(keys: list[ThrottleKey], now: datetime | None = None) -> None:
    """Count one failed log-in under every key; commit."""
    now = now or utcnow()
    stale = now - FORGET_AFTER
    db.session.execute(db.delete(LoginThrottle).where(LoginThrottle.last_failure_at < stale))
    for key in keys:
        updated = cast(
            CursorResult,
            db.session.execute(
                db.update(LoginThrottle)
                .where(LoginThrottle.key == key.key)
                .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
            ),
        )
        if updated.rowcount == 0:
            try:
                with db.session.begin_nested():
                    db.session.add(LoginThrottle(key=key.key, failures=1, last_failure_at=now))
            except IntegrityError:
                # Another process counted the first failure a moment ago: count on top of it.
                db.session.execute(
                    db.update(LoginThrottle)
                    .where(LoginThrottle.key == key.key)
                    .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
                )
    db.session.commit()


def forget_failures(keys: list[ThrottleKey]) -> None:
    """A successful log-in: its keys start again from nothing; commit."""
    db.session.execute(db.delete(LoginThrottle).where(LoginThrottle.key.in_([k.key for k in keys])))
    db.session.commit()
