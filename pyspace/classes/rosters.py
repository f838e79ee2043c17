"""Classes and their pupils: who teaches which class, who is in it, and what a teacher may see
of a pupil's widgets (code, runs, secret names — never a secret value)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import load_only

from ..extensions import db
from ..models import (
    Classroom,
    ClassroomMember,
    JoinCode,
    Run,
    Secret,
    User,
    Widget,
    utcnow,
)

RECENT_RUNS = 10


def may_teach(user) -> bool:
    """Teachers and admins may make classes."""
    return bool(user and user.is_authenticated and (user.is_teacher or user.is_admin))


def create_classroom(teacher: User, name: str, max_uses: int, days: int) -> Classroom:
    """A new class with its own join code; commit and return it."""
    classroom = Classroom(teacher_id=teacher.id, name=name.strip())
    db.session.add(classroom)
    db.session.flush()
    db.session.add(
        JoinCode(
            max_uses=max_uses,
            expires_at=utcnow() + timedelta(days=days),
            note=f"Class: {classroom.name}"[:100],
            created_by_id=teacher.id,
            classroom_id=classroom.id,
        )
    )
    db.session.commit()
    return classroom


def classes_taught_by(teacher: User) -> list[Classroom]:
    return list(
        db.session.scalars(
            db.select(Classroom).filter_by(teacher_id=teacher.id).order_by(Classroom.name)
        )
    )


def classroom_of(teacher, classroom_id: int) -> Classroom | None:
    """The class `classroom_id` if `teacher` teaches it (and still may teach), else None."""
    if not may_teach(teacher):
        return None
    classroom = db.session.get(Classroom, classroom_id)
    if classroom is None or not classroom.is_taught_by(teacher):
        return None
    return classroom


def join_codes_of(classroom: Classroom) -> list[JoinCode]:
    return list(
        db.session.scalars(
            db.select(JoinCode).filter_by(classroom_id=classroom.id).order_by(JoinCode.id.desc())
        )
    )


@dataclass
class PupilRow:
    user: User
    joined_at: datetime
    widget_count: int


def pupils_of(classroom: Classroom) -> list[PupilRow]:
    """The class's pupils, alphabetically, with how many widgets each has (one query)."""
    counts = (
        db.select(Widget.owner_id, db.func.count(Widget.id).label("n"))
        .group_by(Widget.owner_id)
        .subquery()
    )
    rows = db.session.execute(
        db.select(User, ClassroomMember.joined_at, db.func.coalesce(counts.c.n, 0))
        .join(ClassroomMember, ClassroomMember.user_id == User.id)
        .outerjoin(counts, counts.c.owner_id == User.id)
        .where(ClassroomMember.classroom_id == classroom.id)
        .order_by(User.username)
    )
    return [PupilRow(user, joined_at, count) for user, joined_at, count in rows]


def pupil_in(classroom: Classroom, user_id: int) -> User | None:
    """The pupil `user_id` if they are in `classroom`, else None."""
    member = db.session.get(ClassroomMember, (classroom.id, user_id))
    return member.user if member else None


def add_pupil(classroom_id: int, user: User) -> None:
    """Put `user` in the class (caller commits)."""
    db.session.add(ClassroomMember(classroom_id=classroom_id, user_id=user.id))


def may_manage(pupil: User, teacher: User) -> bool:
    """A teacher resets passwords and disables pupils only: never an admin's, another
    teacher's or their own account (a teacher must not take over an admin through a class)."""
    return not (pupil.is_admin or pupil.is_teacher or pupil.id == teacher.id)


@dataclass
class SecretLine:
    """A pupil's secret as their teacher sees it: its name and whether it has a value."""

    name: str
    kind: str
    has_value: bool


@dataclass
class RunLine:
    """A run as a pupil's teacher sees it; output that held a secret value is withheld whole."""

    id: int
    kind: str
    task_name: str | None
    status: str
    created_at: datetime
    duration_ms: int | None
    error_type: str | None
    stdout: str | None  # None: withheld
    error_message: str | None


@dataclass
class PupilWidget:
    widget: Widget
    secrets: list[SecretLine] = field(default_factory=list)
    runs: list[RunLine] = field(default_factory=list)


def pupil_widgets(pupil: User) -> list[PupilWidget]:
    """Every widget of `pupil`, newest first, with secret names (no ciphertext is read) and
    the latest runs."""
    widgets = list(
        db.session.scalars(
            db.select(Widget).filter_by(owner_id=pupil.id).order_by(Widget.updated_at.desc())
        )
    )
    result = []
    for widget in widgets:
        secrets = [
            SecretLine(name, kind, bool(has_value))
            for name, kind, has_value in db.session.execute(
                db.select(Secret.name, Secret.kind, Secret.ciphertext.is_not(None))
                .filter_by(widget_id=widget.id)
                .order_by(Secret.id)
            )
        ]
        runs = [
            _run_line(run)
            for run in db.session.scalars(
                db.select(Run)
                .options(
                    load_only(
                        Run.id,
                        Run.kind,
                        Run.task_name,
                        Run.status,
                        Run.created_at,
                        Run.duration_ms,
                        Run.error_type,
                        Run.error_message,
                        Run.stdout,
                        Run.held_secret,
                        Run.withheld_fields,
                    )
                )
                .filter_by(widget_id=widget.id)
                .order_by(Run.id.desc())
                .limit(RECENT_RUNS)
            )
        ]
        result.append(PupilWidget(widget, secrets, runs))
    return result


def _run_line(run: Run) -> RunLine:
    withheld = run.held_secret or bool(run.withheld_fields)
    return RunLine(
        id=run.id,
        kind=run.kind,
        task_name=run.task_name,
        status=run.status,
        created_at=run.created_at,
        duration_ms=run.duration_ms,
        error_type=run.error_type,
        stdout=None if withheld else run.stdout,
        error_message=None if withheld else run.error_message,
    )
