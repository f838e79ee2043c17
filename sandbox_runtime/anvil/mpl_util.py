"""anvil.mpl_util: the current Matplotlib figure as an image (Media), as Anvil's.

matplotlib is among the sandbox's packages (scripts/sandbox-requirements.txt); it is imported
on first use, with the Agg backend (no display) and its cache in the run's /tmp.
"""

import io
import os

from ._media import BlobMedia


def _pyplot():
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("MPLCONFIGDIR", "/tmp/matplotlib")
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "anvil.mpl_util needs matplotlib, which is not installed in this site's sandbox "
            f"packages ({error}). The administrator installs it with ./manage.sh."
        ) from None
    return plt


def plot_image(format="png", transparent=True, filename="plot.png", **kwargs):
    """The current Matplotlib figure as a Media object (PNG unless `format` says otherwise);
    other arguments are savefig()'s (dpi, facecolor, bbox_inches, …)."""
    plt = _pyplot()
    with io.BytesIO() as buffer:
        plt.savefig(buffer, format=format, transparent=transparent, **kwargs)
        content_type = "image/svg+xml" if format == "svg" else f"image/{format}"
        if format == "pdf":
            content_type = "application/pdf"
        return BlobMedia(content_type, buffer.getvalue(), name=filename)
