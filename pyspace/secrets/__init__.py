"""Secrets: the per-widget Secrets panel (owner only)."""

from flask import Blueprint

bp = Blueprint("secrets", __name__)

from . import key_routes, routes  # noqa: E402,F401
