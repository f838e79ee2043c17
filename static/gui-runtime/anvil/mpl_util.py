"""anvil.mpl_util in client code: Matplotlib runs in server code only."""


def plot_image(*args, **kwargs):
    """Matplotlib figures are made in server code: plot there and return the Media."""
    raise RuntimeError(
        "anvil.mpl_util.plot_image works in server code only: plot in a server function and "
        "return the image it gives (a Media object) to client code."
    )
