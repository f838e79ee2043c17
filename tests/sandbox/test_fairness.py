"""Fair shares: one account can't take the site down. Its runs in flight are capped (a quick
429), slots go out in fair order across accounts, and logged-in runs have a rate limit."""

import json
import threading
import time

import pytest

from pyspace import sandbox as runner
from pyspace.gui import routes as gui_routes
from pyspace.sandbox.fairness import FairQueue, ServerBusyError, TooManyRunsError, request_threads
from pyspace.sandbox.results import failed
from tests.sandbox.helpers import SMALL_LIMITS


def _hold(queue: FairQueue, key: str, order: list, release: threading.Event) -> threading.Thread:
    """A run of `key` that takes a slot, notes it, and holds it until `release` is set."""

    def run():
        with queue.slot(key, timeout=10):
            order.append(key)
            release.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_accounts_run_beyond_its_share_is_refused_at_once():
    queue = FairQueue(slots=4, per_key=2, max_waiting=10)
    release = threading.Event()
    order: list[str] = []
    held = [_hold(queue, "account:1", order, release) for _ in range(2)]
    _wait_for(lambda: len(order) == 2)
    started = time.monotonic()
    with (
        pytest.raises(TooManyRunsError, match="You already have 2 runs going"),
        queue.slot("account:1", timeout=10),
    ):
        pass
    assert time.monotonic() - started < 0.1
    # Another account still gets a slot.
    with queue.slot("account:2", timeout=1):
        pass
    release.set()
    for thread in held:
        thread.join()


def test_a_freed_slot_goes_to_the_account_served_least_not_the_first_in_line():
    queue = FairQueue(slots=1, per_key=2, max_waiting=10)
    order: list[str] = []
    releases = {name: threading.Event() for name in ("a1", "a2", "b1")}
    first = _hold(queue, "a", order, releases["a1"])
    _wait_for(lambda: order == ["a"])
    # a queues a second run, then b queues its first.
    second = _hold(queue, "a", order, releases["a2"])
    _wait_for(lambda: queue.waiting_count() == 1)
    third = _hold(queue, "b", order, releases["b1"])
    _wait_for(lambda: queue.waiting_count() == 2)
    releases["a1"].set()
    _wait_for(lambda: len(order) == 2)
    assert order == ["a", "b"]
    releases["b1"].set()
    _wait_for(lambda: len(order) == 3)
    assert order == ["a", "b", "a"]
    releases["a2"].set()
    for thread in (first, second, third):
        thread.join()


def test_a_full_queue_and_a_long_wait_answer_busy():
    queue = FairQueue(slots=1, per_key=5, max_waiting=1)
    release = threading.Event()
    order: list[str] = []
    holder = _hold(queue, "a", order, release)
    _wait_for(lambda: order == ["a"])
    with pytest.raises(ServerBusyError), queue.slot("b", timeout=0.2):
        pass
    waiter = _hold(queue, "c", order, release)
    _wait_for(lambda: queue.waiting_count() == 1)
    started = time.monotonic()
    with pytest.raises(ServerBusyError), queue.slot("d", timeout=10):
        pass
    assert time.monotonic() - started < 0.1
    release.set()
    for thread in (holder, waiter):
        thread.join()
    assert order == ["a", "c"]


def test_the_web_server_has_threads_for_pages_beyond_every_run_in_flight():
    assert request_threads(max_concurrent=4, max_waiting=32) > 4 + 32


@pytest.fixture
def fair_limits(app_config):
    app_config.update(
        SMALL_LIMITS, RUN_WALL_SECONDS=10, RUN_MAX_CONCURRENT=4, RUN_PER_USER_CONCURRENT=2
    )


SLEEPER = "import time\ntime.sleep(3)\nprint('slept')\n"


def test_third_concurrent_run_of_one_account_gets_a_quick_429_and_others_still_run(
    fair_limits, alice, bob, make_client
):
    sleeper = alice.create_widget("Sleeper", server_code=SLEEPER, visibility="public")
    hello = bob.create_widget("Hello", server_code="print('hello')\n")
    tabs = []
    for _ in range(2):
        tab = make_client()
        assert tab.login("alice").status_code == 302
        tabs.append(tab)
    answers: list = []
    running = [
        threading.Thread(
            target=lambda tab=tab: answers.append(
                tab.post(f"/widgets/{sleeper}/run", headers={"Accept": "application/json"})
            )
        )
        for tab in tabs
    ]
    for thread in running:
        thread.start()
    _wait_for(lambda: runner.runner_for(alice.client.application).queue.waiting_count() == 0)
    time.sleep(0.5)
    started = time.monotonic()
    third = alice.post(f"/widgets/{sleeper}/run", headers={"Accept": "application/json"})
    refused_in = time.monotonic() - started
    assert third.status_code == 429
    assert third.get_json()["error"]["message"].startswith("You already have 2 runs going")
    assert refused_in < 1
    # htmx swaps only 2xx answers: the fragment carries the refusal where the person looks.
    fragment = alice.post(f"/widgets/{sleeper}/run", htmx=True)
    assert "You already have 2 runs going" in fragment.get_data(as_text=True)
    # Bob's run goes while alice's two are still sleeping.
    other = bob.post(f"/widgets/{hello}/run", headers={"Accept": "application/json"})
    assert other.status_code == 200 and other.get_json()["stdout"] == "hello\n"
    for thread in running:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 200]
    assert all(answer.get_json()["stdout"] == "slept\n" for answer in answers)


@pytest.fixture
def account_rate_limited(app_config):
    app_config.update(SMALL_LIMITS, RATELIMIT_ENABLED=True, RUN_USER_RATE_LIMIT="2 per minute")


def test_logged_in_runs_have_a_rate_limit_per_account(account_rate_limited, alice, bob):
    widget_id = alice.create_widget("W", server_code="print('ran')\n", visibility="public")
    statuses = [alice.post(f"/widgets/{widget_id}/run", htmx=True).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = alice.post(f"/widgets/{widget_id}/run", headers={"Accept": "application/json"})
    assert "Too many runs from your account" in refused.get_data(as_text=True)
    # Same address, another account: a budget of its own.
    assert bob.post(f"/widgets/{widget_id}/run", htmx=True).status_code == 200


def test_a_gui_call_beyond_the_accounts_share_gets_a_429(app, alice, monkeypatch):
    refused = failed("TooManyRuns", "You already have 2 runs going…")
    monkeypatch.setattr(gui_routes, "call_and_record", lambda *args, **kwargs: refused)
    widget_id = alice.create_widget("G", kind="gui", visibility="public")
    page = alice.client.get(f"/widgets/{widget_id}/frame").get_data(as_text=True)
    token = json.loads(page.split('id="pyspace-boot">', 1)[1].split("</script>", 1)[0])["callToken"]
    response = app.test_client().post(
        f"/widgets/{widget_id}/call/greet",
        headers={"X-Call-Token": token},
        data="{}",
        content_type="application/json",
    )
    assert response.status_code == 429
    assert response.get_json() == refused.as_call_result()
