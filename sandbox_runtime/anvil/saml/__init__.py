"""anvil.saml: SAML sign-in, not provided by py.space (see anvil.saml.auth)."""
