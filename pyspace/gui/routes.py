"""gui views."""
from . import bp  # noqa: F401
