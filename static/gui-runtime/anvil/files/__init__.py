"""anvil.files: Anvil's Data Files service, not provided by py.space. `data_files` imports and
raises ServiceNotAdded when used (a widget's files can live in a Media column of its tables)."""

from .._unavailable import UnavailableObject, module_getattr

data_files = UnavailableObject("Data Files", "anvil.files.data_files")
__getattr__ = module_getattr("Data Files", __name__)
