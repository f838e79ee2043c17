"""Every route under /widgets/<widget_id> is its owner's alone, through one place: the blueprint
that serves it loads the owned widget (`load_owned_widget`) before any view runs, so a view
can't forget the check. Only the routes listed below serve other people too."""

from pyspace.access import load_owned_widget

WIDGET_PREFIX = "/widgets/<widget_id>"

# Routes under /widgets/<widget_id> that serve people other than the widget's owner: each view
# loads the widget with `visible_widget_or_404` (public widgets, or the owner's own).
VISITOR_ENDPOINTS = {
    "widgets.show",  # the widget's page
    "runs.run",  # the Run button on the widget's page
    "gui.frame",  # a GUI widget's browser frame
    "gui.call",  # anvil.server.call from a GUI widget's client code
    "gui.rows",  # client code reading the rows of a table it may see
    "gui.tables",  # client code listing the tables it may see
    "gui.task",  # client code polling a background task it started
    "forks.fork",  # forking a public widget
}


def _blueprint_chain(endpoint: str) -> list[str]:
    """The blueprint of `endpoint` and the blueprints it is nested in (`a.b.view` -> a.b, a):
    Flask runs the URL value preprocessors of all of them."""
    parts = endpoint.split(".")[:-1]
    return [".".join(parts[:depth]) for depth in range(len(parts), 0, -1)]


def test_owner_routes_under_a_widget_are_on_blueprints_that_load_the_owned_widget(app):
    unguarded = []
    for rule in app.url_map.iter_rules():
        under_a_widget = rule.rule == WIDGET_PREFIX or rule.rule.startswith(WIDGET_PREFIX + "/")
        if not under_a_widget or rule.endpoint in VISITOR_ENDPOINTS:
            continue
        preprocessors = [
            preprocessor
            for blueprint in _blueprint_chain(rule.endpoint)
            for preprocessor in app.url_value_preprocessors.get(blueprint, ())
        ]
        if load_owned_widget not in preprocessors:
            unguarded.append(f"{rule.rule} ({rule.endpoint})")
    assert sorted(unguarded) == []


def test_every_listed_visitor_route_exists_under_a_widget(app):
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    for endpoint in VISITOR_ENDPOINTS:
        assert rules[endpoint].startswith(WIDGET_PREFIX), endpoint
