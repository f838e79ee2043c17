"""Forms every area uses: `EmptyForm`, the form of a button that carries nothing but its CSRF
token (log out everywhere, delete, enable, run now, create key, …)."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token."""
