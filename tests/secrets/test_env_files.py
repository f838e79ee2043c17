"""Parsing and writing .env files."""

import pytest

from pyspace.secrets.env_files import dotenv_line, parse_dotenv


def parsed(text):
    entries, errors = parse_dotenv(text)
    return {e.name: e.value for e in entries}, [(e.line, e.message) for e in errors]


def test_common_forms_are_read():
    text = (
        "# comment\n"
        "\n"
        "API_KEY=abc123\n"
        "export DB_PASSWORD = 'p@ss word #not a comment'\n"
        'GREETING="hello\\nworld \\"quoted\\""\n'
        "BARE=value with spaces   # trailing comment\n"
        "EMPTY=\n"
        "URL=https://example.com/?a=1&b=2\n"
    )
    values, errors = parsed(text)
    assert errors == []
    assert values == {
        "API_KEY": "abc123",
        "DB_PASSWORD": "p@ss word #not a comment",
        "GREETING": 'hello\nworld "quoted"',
        "BARE": "value with spaces",
        "EMPTY": "",
        "URL": "https://example.com/?a=1&b=2",
    }


def test_quoted_values_may_span_lines():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"
    values, errors = parsed(f'KEY="{pem}"\nNEXT=1\n')
    assert errors == [] and values == {"KEY": pem, "NEXT": "1"}


@pytest.mark.parametrize(
    "line, message",
    [
        ("just-a-token-no-equals", "Expected NAME=value."),
        ("9KEY=x", "not starting with a digit"),
        ("BAD-NAME=x", "letters, digits and underscores"),
        ("=x", "A secret needs a name."),
        ("Q='unterminated", "quote is never closed"),
        ('Q="a" tail', "Unexpected text after the closing quote"),
        ("BIG=" + "x" * (64 * 1024 + 1), "at most 64 KiB"),
    ],
)
def test_bad_lines_are_reported_by_number_without_their_value(line, message):
    _values, errors = parsed(f"GOOD=1\n{line}\n")
    assert len(errors) == 1 and errors[0][0] == 2 and message in errors[0][1]
    assert "unterminated" not in errors[0][1] and "xxxx" not in errors[0][1]


def test_a_name_twice_is_an_error_on_the_second_line():
    _values, errors = parsed("A=1\nB=2\nA=3\n")
    assert errors == [(3, "A is already set on line 1.")]


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "",
        "with space",
        'q"uote',
        "back\\slash",
        "multi\nline",
        "#hash",
        "é ünïcode",
        "  padded  ",
        "'single'",
    ],
)
def test_written_values_read_back_exactly(value):
    line = dotenv_line("NAME", value, "A description", required=True)
    assert line.startswith("# A description (required)\n")
    values, errors = parsed(line)
    assert errors == [] and values == {"NAME": value}
