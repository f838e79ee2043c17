"""anvil.pdf: rendering a Form to PDF, not provided by py.space (widgets have no Anvil Forms);
the module imports and raises ServiceNotAdded when used."""

from ._unavailable import module_getattr, not_provided

_SERVICE = "PDF rendering"
render_form = form_to_pdf = not_provided(_SERVICE, "anvil.pdf.render_form")


class PDFRenderer:
    """Anvil's PDF renderer with options: not available on py.space."""

    def __init__(self, **options):
        self.options = options

    def render_form(self, *args, **kwargs):
        return render_form(*args, **kwargs)


__getattr__ = module_getattr(_SERVICE, __name__)
