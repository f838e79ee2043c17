"""anvil.tz: fixed-offset time zones for datetimes, as Anvil's (`tzoffset`, `tzutc`, `tzlocal`,
`UTC`). Server code runs in UTC, so `tzlocal()` there is UTC."""

import datetime
import time


class tzoffset(datetime.tzinfo):  # noqa: N801 (Anvil's name)
    """A time zone a fixed offset from UTC: `tzoffset(hours=2)` (or `minutes=`, `seconds=`)."""

    def __init__(self, **kwargs):
        if len(kwargs) > 1 or not set(kwargs) <= {"seconds", "minutes", "hours"}:
            raise TypeError(
                "tzoffset must be initialised with precisely one of 'seconds', 'minutes' or "
                "'hours' keyword arguments"
            )
        self._offset = datetime.timedelta(**kwargs)

    def utcoffset(self, dt):
        return self._offset

    def dst(self, dt):
        return datetime.timedelta()

    def tzname(self, dt):
        return None

    def __eq__(self, other):
        return isinstance(other, tzoffset) and other._offset == self._offset

    def __hash__(self):
        return hash(self._offset)

    def __repr__(self):
        hours = self._offset.total_seconds() / 3600
        return f"<{type(self).__module__}.{type(self).__name__} ({hours} hour offset)>"


class tzlocal(tzoffset):  # noqa: N801 (Anvil's name)
    """The local time zone (of the browser in client code; UTC in server code)."""

    def __init__(self):
        summer = time.localtime().tm_isdst and time.daylight
        tzoffset.__init__(self, seconds=-time.altzone if summer else -time.timezone)


class tzutc(tzoffset):  # noqa: N801 (Anvil's name)
    """UTC."""

    def __init__(self):
        tzoffset.__init__(self, minutes=0)

    def __repr__(self):
        return "<anvil.tz.tzutc>"


UTC = tzutc()
