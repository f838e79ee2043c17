"""anvil.google.drive.app_files: the app's Drive files. py.space has no Google Drive: naming
any file or folder here raises ServiceNotAdded."""

from ..._unavailable import UnavailableObject

_APP_FILES = UnavailableObject("Google (Drive)", "anvil.google.drive.app_files")


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_APP_FILES, name)
