"""Widgets: home, public pages, the editor."""

from flask import Blueprint

bp = Blueprint("widgets", __name__)

from . import routes  # noqa: E402,F401
