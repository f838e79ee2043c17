"""Forks: copying a widget — everything but its secret values."""

from flask import Blueprint

bp = Blueprint("forks", __name__)

from . import routes  # noqa: E402,F401
