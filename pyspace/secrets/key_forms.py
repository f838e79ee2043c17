"""Forms of the encryption-key buttons (Create Key, Generate key): CSRF only, no fields."""

from flask_wtf import FlaskForm


class KeyButtonForm(FlaskForm):
    """A button that changes a widget's keys: the form carries nothing but the CSRF token."""
