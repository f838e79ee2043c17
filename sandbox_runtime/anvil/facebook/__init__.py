"""anvil.facebook: Facebook sign-in, not provided by py.space (see anvil.facebook.auth)."""
