"""anvil.google: Google sign-in, Drive, Gmail and Sheets. py.space does not provide them; the
modules import, and using them raises anvil.server.ServiceNotAdded."""
