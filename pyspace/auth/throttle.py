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

Checking the wait and counting the attempt are one step (`reserve_attempt`): the attempt is
counted as a failure *before* the password is checked, by an UPDATE that only succeeds if the
counter still holds what the check read (an INSERT, on the key's primary key, for a first
failure). Of many guesses sent at once, only as many as the counter allows reach the password
check; the rest are told to wait. A right password then forgets the key's failures.
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
# Tries of a reservation that lost a race (the counter changed between reading and counting)
# before the attempt is told to wait a second.
RESERVE_TRIES = 5


@dataclass(frozen=True)
class ThrottleKey:
    key: str
    free_failures: int


def _client_keys(username: str, address: str) -> list[ThrottleKey]:
    return [
        ThrottleKey(
            f"address:{address}|account:{username}", current_app.config["LOGIN_FREE_FAILURES"]
        ),
        ThrottleKey(
            f"untrusted|account:{username}", current_app.config["LOGIN_ACCOUNT_FREE_FAILURES"]
        ),
    ]


def reserve_attempt(
    username: str, address: str, device: str | None
) -> tuple[list[ThrottleKey], int]:
    """Reserve one password check for a log-in attempt: (its keys, 0) with the attempt already
    counted as a failure under them (commit), or (keys, seconds to wait) with nothing counted.

    The keys are those of the module docstring: a device cookie counts only under its own key
    while that key has no wait; a device cookie that is itself being used to guess (stolen, or a
    shared computer) waits, and meanwhile its browser counts as any other, so its owner can
    still log in from their usual address."""
    if device:
        device_keys = [ThrottleKey(f"device:{device}", current_app.config["LOGIN_FREE_FAILURES"])]
        if _reserve(device_keys) == 0:
            return device_keys, 0
    keys = _client_keys(username, address)
    return keys, _reserve(keys)


def delay_after(failures: int, free_failures: int, max_delay: int) -> int:
    """Seconds the next try must wait after `failures` failures in a row: 0 while free, then
    doubling from 1 second, never more than `max_delay`."""
    if failures < free_failures:
        return 0
    return min(2 ** min(failures - free_failures, 30), max_delay)


def _wait_for(row: LoginThrottle | None, key: ThrottleKey, now: datetime) -> float:
    if row is None or now - row.last_failure_at > FORGET_AFTER:
        return 0
    delay = delay_after(
        row.failures, key.free_failures, current_app.config["LOGIN_MAX_DELAY_SECONDS"]
    )
    return delay - (now - row.last_failure_at).total_seconds()


def _reserve(keys: list[ThrottleKey]) -> int:
    """0 with one more failure counted under every key (committed), or the seconds to wait
    with nothing counted. Every key's counter changes only if it still holds what was read
    (compare-and-set), all keys in one transaction: two attempts that read the same counter
    can't both be counted from it."""
    for _ in range(RESERVE_TRIES):
        now = utcnow()
        rows = {
            row.key: row
            for row in db.session.scalars(
                db.select(LoginThrottle)
                .where(LoginThrottle.key.in_([k.key for k in keys]))
                .execution_options(populate_existing=True)
            )
        }
        wait = max(_wait_for(rows.get(key.key), key, now) for key in keys)
        if wait > 0:
            db.session.rollback()
            return max(1, int(wait + 0.999))
        try:
            counted = all(_count_one_more(rows.get(key.key), key, now) for key in keys)
        except IntegrityError:
            counted = False  # another attempt counted this key's first failure first
        if counted:
            db.session.execute(
                db.delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_AFTER)
            )
            db.session.commit()
            return 0
        db.session.rollback()
    return 1


def _count_one_more(row: LoginThrottle | None, key: ThrottleKey, now: datetime) -> bool:
    """Count a failure on top of `row` as read; False if the counter changed since."""
    if row is None:
        db.session.execute(
            db.insert(LoginThrottle).values(key=key.key, failures=1, last_failure_at=now)
        )
        return True
    seen_failures, seen_at = row.failures, row.last_failure_at
    # A key idle past FORGET_AFTER starts again from one.
    failures = 1 if now - seen_at > FORGET_AFTER else seen_failures + 1
    changed = cast(
        CursorResult,
        db.session.execute(
            db.update(LoginThrottle)
            .where(
                LoginThrottle.key == key.key,
                LoginThrottle.failures == seen_failures,
                LoginThrottle.last_failure_at == seen_at,
            )
            .values(failures=failures, last_failure_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return changed.rowcount == 1


def record_failure(keys: list[ThrottleKey]) -> None:
    """The reserved attempt was a wrong password (already counted): its wait runs from now, when
    the failure was known, not from the reservation before the slow password check; commit."""
    db.session.execute(
        db.update(LoginThrottle)
        .where(LoginThrottle.key.in_([k.key for k in keys]))
        .values(last_failure_at=utcnow())
    )
    db.session.commit()


def give_back(keys: list[ThrottleKey]) -> None:
    """Un-count a reserved attempt that turned out not to be a wrong password (a disabled
    account's right one); commit."""
    db.session.execute(
        db.update(LoginThrottle)
        .where(LoginThrottle.key.in_([k.key for k in keys]), LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )
    db.session.commit()


def forget_failures(keys: list[ThrottleKey]) -> None:
    """A successful log-in: its keys start again from nothing; commit."""
    db.session.execute(db.delete(LoginThrottle).where(LoginThrottle.key.in_([k.key for k in keys])))
    db.session.commit()
