"""A forker never gets the original's secret values — not from any route of the whole app."""

import pytest

from pyspace.extensions import db
from pyspace.models import Secret
from pyspace.secrets import vault
from tests.forks.test_routes import ORIGINAL_SECRETS, VALUES, add_secrets, ciphertexts, fork_as
from tests.security.test_secret_values import readable

# Routes that end the forker's session or belong to no widget: crawling them proves nothing here.
SKIPPED_BLUEPRINTS = ("auth", "static")


@pytest.fixture
def forked(app, alice, bob):
    """Alice's public widget with secret values, and bob's fork of it: (original id, fork id)."""
    widget_id = alice.create_widget(
        "Weather", visibility="public", server_code="import anvil.secrets\nprint('ok')\n"
    )
    add_secrets(app, widget_id)
    return widget_id, fork_as(bob, widget_id)


def _argument_values(app, rule, widget_ids) -> list[dict]:
    """Every combination worth trying for the rule's URL arguments."""
    with app.app_context():
        secrets = db.session.scalars(
            db.select(Secret).where(Secret.widget_id.in_(widget_ids))
        ).all()
        secret_ids = [s.id for s in secrets]
        names = [s.name for s in secrets[:2]]
    guesses = {
        "widget_id": list(widget_ids),
        "secret_id": secret_ids,
        "name": names,
        "secret_name": names,
        "username": ["alice", "bob"],
        "mode": ["name", "value", "details"],
    }
    combos = [{}]
    for argument in sorted(rule.arguments):
        # Other ids (tables, rows, schedules, users) name nothing of these widgets but the two
        # accounts: two guesses each, or the table-cell routes alone make thousands of requests.
        values = guesses.get(argument) or ([1, 2] if argument.endswith("_id") else ["x"])
        combos = [dict(combo, **{argument: value}) for combo in combos for value in values]
    return combos


def _requests(app, widget_ids):
    """(method, url, htmx) for every route of the app, destructive ones last."""
    requests = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in SKIPPED_BLUEPRINTS:
            continue
        for arguments in _argument_values(app, rule, widget_ids):
            url = rule.build(arguments, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for htmx in (False, True):
                    requests.append((method, url, htmx))
    return sorted(requests, key=lambda request: ("delete" in request[1], request[0] == "POST"))


@pytest.mark.long
def test_forker_reaches_no_original_value_through_any_route(app, forked, bob):
    original, fork = forked
    secret_ciphertexts = ciphertexts(app, original)
    requests = _requests(app, (original, fork))
    assert len(requests) > 50  # the crawl really covers the app
    form = {
        "name": "renamed",
        "value": "bobs value",
        "title": "t",
        "description": "d",
        "server_code": "print(1)",
        "visibility": "private",
    }
    for method, url, htmx in requests:
        if method == "GET":
            response = bob.client.get(url, headers={"HX-Request": "true"} if htmx else {})
        else:
            response = bob.post(url, form, htmx=htmx)
        seen = readable(response) + str(response.headers)
        for value in VALUES + secret_ciphertexts:
            assert value not in seen, f"{method} {url} (htmx={htmx}) shows an original value"


@pytest.mark.parametrize("path", ["", "/edit", "/secrets", "/needs-values"])
def test_fork_pages_list_names_but_no_original_value(app, forked, bob, path):
    original, fork = forked
    response = bob.client.get(f"/widgets/{fork}{path}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for value in VALUES + ciphertexts(app, original):
        assert value not in text
    if path in ("/edit", "/secrets", "/needs-values"):
        assert "left_blank" in text and "zeta_comes_first" in text


PRINT_EVERY_SECRET = (
    "import anvil.secrets\n"
    "for name in {names!r}:\n"
    "    try:\n"
    "        print(name, '=', anvil.secrets.get_secret(name))\n"
    "    except Exception as error:\n"
    "        print(name, 'refused:', type(error).__name__, error)\n"
)


@pytest.fixture(autouse=True)
def cold_runs(app_config):
    """Runs (the crawl makes some too) in a fresh sandbox each: no warm pool outlives a test."""
    app_config["RUN_POOL_SIZE"] = 0


def test_fork_run_output_has_no_original_value_and_blank_secrets_refuse(app, alice, bob):
    names = [name for name, *_ in ORIGINAL_SECRETS]
    original = alice.create_widget(
        "Weather", visibility="public", server_code=PRINT_EVERY_SECRET.format(names=names)
    )
    add_secrets(app, original)
    fork = fork_as(bob, original)
    response = bob.post(f"/widgets/{fork}/run", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert result["ok"] is True, result
    seen = response.get_data(as_text=True)
    for value in VALUES + ciphertexts(app, original):
        assert value not in seen
    lines = result["stdout"].splitlines()
    assert len(lines) == len(names)
    for name, line in zip(names, lines, strict=True):
        assert line.startswith(f"{name} refused:")
        assert "has no value yet" in line


def test_fork_run_reads_the_forks_own_values_once_set(app, alice, bob):
    original = alice.create_widget(
        "Weather",
        visibility="public",
        # Reversed, so the run's redaction of exact values does not hide what was read.
        server_code="import anvil.secrets\nprint(anvil.secrets.get_secret('API_KEY')[::-1])\n",
    )
    add_secrets(app, original)
    fork = fork_as(bob, original)
    with app.app_context():
        secret = db.session.scalar(db.select(Secret).filter_by(widget_id=fork, name="API_KEY"))
        secret.ciphertext = vault.encrypt_value("bobs-own-key")
        db.session.commit()
    result = bob.post(f"/widgets/{fork}/run", headers={"Accept": "application/json"}).get_json()
    assert result["ok"] is True, result
    assert result["stdout"] == "yek-nwo-sbob\n"
