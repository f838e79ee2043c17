"""anvil.google.drive: Google Drive, not provided by py.space. `app_files` (also importable as
`from anvil.google.drive import app_files`) raises ServiceNotAdded when used."""

from ..._unavailable import module_getattr
from . import app_files

__all__ = ["app_files"]
__getattr__ = module_getattr("Google (Drive)", __name__)
