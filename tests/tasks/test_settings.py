"""The tasks' settings are parsed strictly, like every other setting."""

import pytest

from pyspace.config import ConfigError, config_from_environment


def test_runs_on_accepts_web_or_queue_only():
    assert config_from_environment({"PYSPACE_RUNS_ON": "queue"})["RUNS_ON"] == "queue"
    with pytest.raises(ConfigError, match=r"PYSPACE_RUNS_ON='workers'.*web or queue"):
        config_from_environment({"PYSPACE_RUNS_ON": "workers"})


@pytest.mark.parametrize(
    ("variable", "raw", "parsed"),
    [
        ("PYSPACE_TASK_WALL_SECONDS", "120", 120.0),
        ("PYSPACE_TASKS_PER_USER", "3", 3),
        ("PYSPACE_SCHEDULE_MIN_MINUTES", "1", 1),
        ("PYSPACE_HISTORY_MAX_RUNS", "50", 50),
        ("PYSPACE_QUEUE_URL", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_task_settings_are_read_from_the_environment(variable, raw, parsed):
    name = variable.removeprefix("PYSPACE_")
    assert config_from_environment({variable: raw})[name] == parsed


def test_a_queue_url_that_is_not_redis_stops_the_queue_with_a_message(app):
    from pyspace.runs.queue import make_huey

    app.config["QUEUE_URL"] = "amqp://somewhere"
    with pytest.raises(ConfigError, match="not a redis:// or sqlite:/// URL"):
        make_huey(app)
