"""Handing a widget out to a class: every pupil gets their own fork of it, made as forks
always are (forks/forking.py: secret names with blank values, no data rows, schedules off).

One short transaction per pupil, so a class of 30 never holds the database for long and a
pupil whose quota is full doesn't stop the others. A pupil who already has a copy gets no
second one, so pressing the button again after a partial hand-out only fills the gaps."""

from dataclasses import dataclass

from ..extensions import db
from ..forks.forking import fork_widget
from ..models import Classroom, User, Widget
from ..quotas import code_bytes, new_widget_error
from .rosters import pupils_of


@dataclass
class HandOutLine:
    """What handing out did for one pupil: the fork they got, or why they got none."""

    pupil: User
    fork: Widget | None
    refused: str | None


def hand_out(widget: Widget, classroom: Classroom) -> list[HandOutLine]:
    """Fork `widget` for every pupil of `classroom` (the teacher themself excluded)."""
    size = code_bytes(
        server_code="".join(code for _name, code in widget.module_sources()),
        client_code=widget.client_code,
        html=widget.html,
    )
    have_one = set(
        db.session.scalars(db.select(Widget.owner_id).filter_by(forked_from_id=widget.id))
    )
    report = []
    for row in pupils_of(classroom):
        pupil = row.user
        if pupil.id == classroom.teacher_id:
            continue
        if pupil.id in have_one:
            report.append(HandOutLine(pupil, None, "Already has a copy."))
            continue
        refused = new_widget_error(pupil.id, size)
        if refused:
            report.append(HandOutLine(pupil, None, refused.replace("You have", "They have")))
            continue
        report.append(HandOutLine(pupil, fork_widget(widget, pupil), None))
    return report
