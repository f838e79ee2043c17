"""anvil.google.sheets: Google Sheets, not provided by py.space (ServiceNotAdded on use)."""

from .._unavailable import module_getattr

__getattr__ = module_getattr("Google (Sheets)", __name__)
