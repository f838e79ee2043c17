"""Accounts made in bulk from a CSV of names, straight into a class.

Accounts have no e-mail column, so the CSV's first column is the username and any other
column is ignored (a header row "name"/"username" is skipped). Every row is checked before
anything is written: one bad row and no account is made, with each bad row reported by its
line number. New accounts get no password: each gets a one-time log-in link instead, where the
pupil chooses one."""

import csv
import io
from dataclasses import dataclass

from ..extensions import db
from ..models import User
from .login_links import new_login_link
from .rosters import add_pupil

MAX_ROWS = 200
HEADER_NAMES = {"name", "names", "username", "usernames", "user"}
# werkzeug's check_password_hash answers False for a hash it can't parse: no password matches.
NO_PASSWORD = "!no-password-yet"


@dataclass
class BadRow:
    line: int
    text: str
    reason: str


@dataclass
class NewAccount:
    username: str
    token: str


def parse_names(text: str) -> tuple[list[str], list[BadRow]]:
    """The usernames of the CSV `text`, and the rows that can't become accounts."""
    names: list[str] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    rows = list(csv.reader(io.StringIO(text)))
    for line, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        raw = cells[0]
        if line == 1 and raw.lower() in HEADER_NAMES:
            continue
        name = User.normalize_username(raw)
        error = User.username_error(name)
        if error is None and name in seen:
            error = f"The same name as line {seen[name]}."
        if error:
            bad.append(BadRow(line, ",".join(row)[:80], error))
            continue
        seen[name] = line
        names.append(name)
    if len(names) > MAX_ROWS:
        too_many = f"At most {MAX_ROWS} accounts at a time; this file has {len(names)}."
        bad.append(BadRow(0, "", too_many))
    taken = (
        set(db.session.scalars(db.select(User.username).where(User.username.in_(names))))
        if names
        else set()
    )
    for name in names:
        if name in taken:
            bad.append(BadRow(seen[name], name, "That username is taken."))
    bad.sort(key=lambda row: row.line)
    return names, bad


def create_accounts(classroom_id: int, names: list[str], teacher: User) -> list[NewAccount]:
    """Make the accounts, put them in the class and give each a one-time link: one transaction,
    all or nothing (no password is hashed, so even a full class is quick)."""
    made = []
    try:
        for name in names:
            user = User(username=name, password_hash=NO_PASSWORD)
            db.session.add(user)
            db.session.flush()
            add_pupil(classroom_id, user)
            made.append(NewAccount(name, new_login_link(user, teacher)))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return made
