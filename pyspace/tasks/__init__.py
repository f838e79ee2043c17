"""Tasks: background tasks, schedules and the run history (owner-only panels), on Huey."""

from flask import Blueprint

bp = Blueprint("tasks", __name__)

from . import routes  # noqa: E402,F401
