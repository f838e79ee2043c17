"""The models' own rules: names are matched whole, so a trailing newline is no loophole."""

import pytest

from pyspace.models import Secret, User


@pytest.mark.parametrize("name", ["api_key", "API_KEY", "_private", "k" * 64, "a1_b2"])
def test_valid_secret_names_are_accepted(name):
    assert Secret.name_error(name) is None


@pytest.mark.parametrize(
    "name", ["abc\n", "abc\r\n", "\nabc", "ab c", "1abc", "api-key", "k" * 65, "caf\u00e9", ""]
)
def test_secret_names_must_match_whole_not_up_to_a_trailing_newline(name):
    assert Secret.name_error(name) is not None


@pytest.mark.parametrize("username", ["alice\n", "al\nice", "ab", "al ice", "a" * 33])
def test_usernames_must_match_whole_not_up_to_a_trailing_newline(username):
    assert User.username_error(username) is not None


def test_a_valid_username_is_accepted():
    assert User.username_error("alice_99") is None
