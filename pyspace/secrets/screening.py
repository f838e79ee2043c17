"""Screening what visitors read from a widget's data tables for its secret values.

Client code can read tables its owner opened to it (Anvil's "Form code can search this
table") without any run: no server code reads a secret first, so there is no run's redaction
set to check the rows against. Server code may have stored a secret value in a row, so these
answers are checked against every secret value of the widget instead: decrypted here, only
into a Redactor that masks them (for the owner) or marks the answer to be withheld (for
everyone else); no value leaves this module. Encryption keys are left out: widget code never
holds their material, so it can't have stored it in a row.
"""

from sqlalchemy import select

from ..extensions import db
from ..models import SECRET_KIND, Secret
from ..sandbox.redaction import Redactor
from . import vault


def widget_secrets_redactor(widget_id: str) -> Redactor:
    """A Redactor holding every (non-blank) secret value of `widget_id`."""
    redactor = Redactor()
    stored = db.session.scalars(
        select(Secret.ciphertext).where(
            Secret.widget_id == widget_id,
            Secret.kind == SECRET_KIND,
            Secret.ciphertext.is_not(None),
        )
    )
    for ciphertext in stored:
        if ciphertext is not None:
            redactor.add(vault.decrypt_value(ciphertext))
    return redactor
