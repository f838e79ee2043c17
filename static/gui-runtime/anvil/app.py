"""anvil.app in client code: a widget is the app (no environments, branches or assets)."""

from ._unavailable import not_provided


class _Environment:
    """`anvil.app.environment`: a widget has one, "published"."""

    name = "published"
    tags: tuple = ()


id = None
branch = "master"
package_name = "client_code"
environment = _Environment()


def get_client_config(package_name=None) -> dict:
    """A widget has no service configuration: always {}."""
    return {}


get_asset = not_provided("app assets", "anvil.app.get_asset")
