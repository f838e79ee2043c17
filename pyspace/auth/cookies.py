"""The session cookie: Flask's signed cookie, with its signing serializer built once per key, and
never saved on a static file's answer.

Flask builds a new `URLSafeTimedSerializer` every time it opens or saves a session, twice a
request: about 5% of the CPU of a page served from the page cache (pyspace/page_cache.py).
The serializer holds nothing but the keys and settings, so one per key set is shared by every
request; a changed SECRET_KEY or SECRET_KEY_FALLBACKS gets a serializer of its own.

A static file is the same for everyone and its view never touches the session, but Flask-Login
peeks at the session after every request, and Flask then marks the answer `Vary: Cookie`. A
browser whose cookie changed since it cached a file (a first visit sets one) would then ask for
every stylesheet and script of the page again, although their URLs say they never change
(pyspace/static_urls.py).
"""

from functools import lru_cache

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer


class SignedCookieSessions(SecureCookieSessionInterface):
    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.endpoint == "static":
            return  # see the module's docstring: no Vary: Cookie, no Set-Cookie
        super().save_session(app, session, response)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        fallbacks = tuple(app.config["SECRET_KEY_FALLBACKS"] or ())
        return self._serializer(app.secret_key, fallbacks)

    @lru_cache(maxsize=8)  # noqa: B019 - one interface per app, kept as long as the app
    def _serializer(
        self, secret_key: str | bytes, fallbacks: tuple[str | bytes, ...]
    ) -> URLSafeTimedSerializer:
        # As Flask orders them: itsdangerous signs with the last key and accepts every one.
        return URLSafeTimedSerializer(
            [*fallbacks, secret_key],  # type: ignore[arg-type]  # as in Flask
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
