"""Data tables: the per-widget Data panel (owner only) and `anvil.tables` for server code."""

from flask import Blueprint

bp = Blueprint("tables", __name__)

from . import routes  # noqa: E402,F401
