"""anvil.js in server code: it imports (modules shared with client code often import it), but
JavaScript exists only in the browser, so using any of it raises ImportError, as Anvil's does."""


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise ImportError("anvil.js attributes are only available client-side")
