"""anvil.microsoft: Microsoft sign-in, not provided by py.space (see anvil.microsoft.auth)."""
