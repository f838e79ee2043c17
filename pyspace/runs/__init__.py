"""Runs: running a widget's server code in the sandbox."""

from flask import Blueprint

bp = Blueprint("runs", __name__)

from . import routes  # noqa: E402,F401
