import anvil.server
