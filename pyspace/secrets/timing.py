"""Short, human times for the Secrets panel ("3 min ago")."""

from datetime import datetime

from ..models import utcnow


def ago(moment: datetime | None, never: str = "never") -> str:
    """`moment` as "just now", "5 min ago", "2 h ago" or a date; `never` for None."""
    if moment is None:
        return never
    seconds = (utcnow() - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return moment.strftime("%d %b %Y")
