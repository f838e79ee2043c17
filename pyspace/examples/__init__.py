"""Examples: a gallery of starter widgets; "Use this example" makes a private copy."""

from flask import Blueprint

bp = Blueprint("examples", __name__)

from . import routes  # noqa: E402,F401
