"""anvil.app: about the app the code runs in, as Anvil's `anvil.app` (`id`, `branch`,
`environment`, `package_name`, `get_client_config()`, `get_server_config()`).

On py.space the app is the widget: `id` is its id. Widgets have no environments, branches,
dependency config or assets: `environment.name` is "published", `branch` "master", the configs
are empty and `get_asset` raises ServiceNotAdded.
"""

from ._unavailable import not_provided


class _Environment:
    """`anvil.app.environment`: a widget has one, "published"."""

    name = "published"
    tags: tuple = ()

    def __repr__(self) -> str:
        return f"Environment(name={self.name!r}, tags={self.tags!r})"


id = None  # the widget's id, set when a run starts
branch = "master"
package_name = "server_code"
environment = _Environment()


def _setup(widget_id) -> None:
    """Called by the sandbox's bootstrap with the run's widget."""
    global id  # noqa: PLW0603
    id = widget_id


def get_client_config(package_name=None) -> dict:
    """A widget has no service configuration: always {}."""
    return {}


def get_server_config(package_name=None) -> dict:
    """A widget has no service configuration: always {}."""
    return {}


get_asset = not_provided("app assets", "anvil.app.get_asset")
