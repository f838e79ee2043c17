"""`anvil.server.session`: a dict kept between the GUI calls of one visitor session of this
widget (Anvil's server session), and `anvil.server.get_session_id()`.

It is read from the web app the first time code touches it and saved when the call ends if it
changed; it holds JSON values (str, numbers, bool, None, lists, dicts with str keys) up to the
site's size cap. In runs that are not GUI calls (the Run button, HTTP endpoints, tasks) it is an
empty dict of this run alone.
"""

import json
import os

from . import _channel


class SessionError(Exception):
    """The session could not be saved: not JSON values, or over the site's size cap."""


class _Session(dict):
    """The session dict, loaded on first use."""

    def __init__(self):
        super().__init__()
        self._loaded = False
        self._saved_json = "{}"
        self._id = None
        self._id_of_run = None  # get_session_id() of a run that is not a GUI call

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        answer = _channel.ask({"op": "get_session"})
        if answer.get("ok"):
            self._id = answer.get("id")
            super().update(answer.get("data") or {})
            self._saved_json = json.dumps(dict(self), sort_keys=True)

    def _save(self) -> None:
        """Send the session back if the code changed it (called when a call ends)."""
        if not self._loaded or self._id is None:
            return
        try:
            text = json.dumps(dict(self), sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise SessionError(
                f"anvil.server.session holds JSON values only (str, numbers, lists, dicts): {error}"
            ) from None
        if text == self._saved_json:
            return
        answer = _channel.ask({"op": "set_session", "data": json.loads(text)})
        if not answer.get("ok"):
            raise SessionError(answer.get("message") or "anvil.server.session was not saved")
        self._saved_json = text


def _loading(name):
    method = getattr(dict, name)

    def loaded(self, *args, **kwargs):
        self._load()
        return method(self, *args, **kwargs)

    loaded.__name__ = name
    return loaded


for _name in (
    "__getitem__", "__setitem__", "__delitem__", "__contains__", "__iter__", "__len__",
    "__repr__", "__eq__", "get", "keys", "values", "items", "pop", "popitem", "setdefault",
    "update", "clear", "copy",
):  # fmt: skip
    setattr(_Session, _name, _loading(_name))

session = _Session()


def get_session_id():
    """This visitor session's id. A run that is not a GUI call (an HTTP endpoint request, the
    Run button, a task) is a session of its own, as a cookie-less HTTP request is in Anvil: it
    gets a fresh id, the same for the whole run."""
    session._load()
    if session._id is None:
        session._id_of_run = session._id_of_run or os.urandom(20).hex()
        return session._id_of_run
    return session._id
