"""The session cookie's serializer is built once per key set (pyspace/auth/cookies.py), and
still follows the keys: a rotated key's cookies are read through SECRET_KEY_FALLBACKS, and a
cookie signed with a key the site no longer has is refused."""

from pyspace.auth.cookies import SignedCookieSessions


def _logged_in_page(client) -> bool:
    return b"Log out" in client.get("/").data


def test_a_rotated_key_keeps_its_sessions_through_the_fallbacks(app, alice):
    assert isinstance(app.session_interface, SignedCookieSessions)
    assert _logged_in_page(alice.client)
    old_key = app.config["SECRET_KEY"]
    app.config.update(SECRET_KEY="the new key", SECRET_KEY_FALLBACKS=[old_key])
    assert _logged_in_page(alice.client)
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert not _logged_in_page(alice.client)


def test_a_cookie_signed_with_a_key_the_site_no_longer_has_is_refused(app, alice):
    assert _logged_in_page(alice.client)
    app.config["SECRET_KEY"] = "a key that never signed it"
    assert not _logged_in_page(alice.client)


def test_the_serializer_is_built_once_per_key_set(app):
    sessions = app.session_interface
    first = sessions.get_signing_serializer(app)
    assert sessions.get_signing_serializer(app) is first
    app.config["SECRET_KEY"] = "another key"
    assert sessions.get_signing_serializer(app) is not first
