"""Portable values (anvil/_serialise.py): the same encoding in server and client code, every
value type round-trips, and what can't cross is named by its path."""

import datetime
import json

import pytest

from tests.values.runtimes import CLIENT_ANVIL, SANDBOX_ANVIL, load_serialise, run_client

server_side = load_serialise(SANDBOX_ANVIL, "sandbox_anvil")
client_side = load_serialise(CLIENT_ANVIL, "client_anvil")
server_media = __import__("sandbox_anvil._media")._media
client_media = __import__("client_anvil._media").__dict__["_media"]


# One file serves both runtimes: the client's copy is a symlink into sandbox_runtime/ (each
# runtime is its own package, so neither may import the other's).
SHARED = ["_serialise.py", "_media.py", "tz.py", "pdf.py", "tables/query.py", "_unavailable.py"]


@pytest.mark.parametrize("file_name", SHARED)
def test_server_and_client_runtimes_share_one_file(file_name):
    client = CLIENT_ANVIL / file_name
    assert client.is_symlink() and client.resolve() == (SANDBOX_ANVIL / file_name).resolve()


def test_no_client_runtime_file_is_a_copy_of_a_server_one():
    """A file the two runtimes have alike is the one file, never a copy that could drift."""
    for client in CLIENT_ANVIL.rglob("*.py"):
        server = SANDBOX_ANVIL / client.relative_to(CLIENT_ANVIL)
        if server.is_file() and not client.is_symlink():
            assert client.read_bytes() != server.read_bytes(), f"{client} copies {server}"


def test_a_shared_file_is_served_to_the_browser_from_the_one_file(client):
    served = client.get("/static/gui-runtime/anvil/_serialise.py")
    assert served.status_code == 200
    assert served.get_data() == (SANDBOX_ANVIL / "_serialise.py").read_bytes()


def _values(media_cls):
    return {
        "text": "héllo",
        "numbers": [1, 2.5, -3, True, None],
        "tuple": (1, "two"),
        "aware": datetime.datetime(
            2024, 5, 1, 12, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
        ),
        "naive": datetime.datetime(2024, 5, 1, 12, 30, 15, 250),
        "day": datetime.date(2024, 2, 29),
        "picture": media_cls("image/png", b"\x89PNG\r\n\x1a\n\x00\xff", name="dot.png"),
        "nested": [{"when": datetime.date(2020, 1, 1), "$t": "a plain key"}],
    }


@pytest.mark.parametrize(
    "sender, receiver, sender_media",
    [
        (server_side, client_side, server_media.BlobMedia),
        (client_side, server_side, client_media.BlobMedia),
    ],
    ids=["server-to-client", "client-to-server"],
)
def test_every_value_type_round_trips_between_the_runtimes(sender, receiver, sender_media):
    sent = _values(sender_media)
    # What crosses is plain JSON text.
    wire = json.loads(json.dumps(sender.encode(sent, "result")))
    received = receiver.decode(wire)
    assert received["text"] == "héllo"
    assert received["numbers"] == [1, 2.5, -3, True, None]
    assert received["tuple"] == [1, "two"]
    assert received["aware"] == sent["aware"] and received[
        "aware"
    ].utcoffset() == datetime.timedelta(hours=2)
    assert received["naive"] == sent["naive"] and received["naive"].tzinfo is None
    assert received["day"] == datetime.date(2024, 2, 29) and type(received["day"]) is datetime.date
    picture = received["picture"]
    assert picture.get_bytes() == b"\x89PNG\r\n\x1a\n\x00\xff"
    assert (picture.content_type, picture.name, picture.length) == ("image/png", "dot.png", 10)
    assert received["nested"] == [{"when": datetime.date(2020, 1, 1), "$t": "a plain key"}]


def test_portable_classes_cross_with_and_without_serialize_hooks():
    for side in (server_side, client_side):

        @side.portable_class
        class Point:
            def __init__(self, x, y):
                self.x, self.y = x, y

        @side.portable_class("money.Amount")
        class Amount:
            def __init__(self, pence):
                self.pence = pence

            def __serialize__(self, global_data):
                return [self.pence, datetime.date(2024, 1, 1)]

            def __deserialize__(self, data, global_data):
                self.pence, self.since = data

    wire = json.loads(
        json.dumps(
            server_side.encode(
                [{"p": _make(server_side, "Point", 1, 2)}, _make(server_side, "money.Amount", 250)]
            )
        )
    )
    point, amount = client_side.decode(wire)[0]["p"], client_side.decode(wire)[1]
    assert type(point).__name__ == "Point" and (point.x, point.y) == (1, 2)
    assert type(amount).__name__ == "Amount" and amount.pence == 250
    assert amount.since == datetime.date(2024, 1, 1)


def _make(side, name, *args):
    return side._portable_by_name[name](*args)


@pytest.mark.parametrize(
    "value, path",
    [
        ([1, 2, {"when": {1, 2}}], "result[2]['when'] (type set)"),
        ({"ok": object()}, "result['ok'] (type object)"),
        ({1: "x"}, "result[1] (dict keys must be strings)"),
        ([float("nan")], "result[0] (nan is not JSON: numbers must be finite)"),
    ],
)
def test_a_value_that_cannot_cross_is_named_by_its_path(value, path):
    with pytest.raises(server_side.SerializationError) as raised:
        server_side.encode(value, "result", "The server function returned")
    assert str(raised.value) == f"The server function returned a value that is not portable: {path}"


def test_nesting_deeper_than_the_limit_is_refused():
    deep: list = []
    for _ in range(server_side.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(server_side.SerializationError, match="nested more than"):
        server_side.encode(deep, "result")


def test_media_over_the_cap_is_refused_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(server_side.Limits, "media_bytes", 1024 * 1024)
    big = server_media.BlobMedia("text/plain", b"x" * (600 * 1024))
    with pytest.raises(server_side.SerializationError) as raised:
        server_side.encode([big, big], "result", "Returned")
    assert str(raised.value) == (
        "Returned more Media than can cross at result[1]: one value may carry at most 1 MB "
        "of Media (1.2 MB so far)."
    )


def test_an_unknown_tag_or_unregistered_portable_class_is_a_serialization_error():
    with pytest.raises(server_side.SerializationError, match="unknown kind"):
        server_side.decode({"$t": "spaceship"})
    with pytest.raises(server_side.SerializationError, match="not registered here"):
        server_side.decode({"$t": "portable", "name": "Nowhere", "v": {}})


ROW = {
    "$t": "row",
    "table": "tasks",
    "id": "7",
    "values": {"name": "Walk the dog", "due": {"$t": "date", "v": "2024-05-01"}},
    "ref": "signed-row-7",
}


def test_client_rows_are_read_only_and_go_back_as_their_reference():
    # The site refuses the write (the table is not editable from client code).
    denied = {"type": "PermissionDenied", "message": "Cannot write to row from table 'tasks'"}
    result = run_client(
        """
        import anvil.server, anvil.tables
        row = anvil.server.call("get_task")
        print(row["name"], row["due"], dict(row)["name"], isinstance(row, anvil.tables.Row))
        try:
            row["name"] = "x"
        except anvil.tables.RowReadOnlyError:
            print("read-only")
        anvil.server.call("update_task", task=row, complete=True)
        print(json.dumps(ASKED[2]))
        """,
        {
            "get_task": {"ok": True, "result": ROW},
            "-/tables": {"ok": False, "error": denied},
            "update_task": {"ok": True, "result": None},
        },
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Walk the dog 2024-05-01 Walk the dog True"
    assert lines[1] == "read-only"
    sent = json.loads(lines[2])
    assert sent == [
        "update_task",
        {
            "args": [],
            "kwargs": {
                "task": {"$t": "row", "table": "tasks", "id": "7", "ref": "signed-row-7"},
                "complete": True,
            },
        },
    ]


def test_client_search_fetches_later_pages_as_it_is_iterated():
    first = {"$t": "search", "table": "tasks", "ref": "signed-search", "more": True, "rows": [ROW]}
    second = dict(ROW, id="8", ref="signed-row-8", values={"name": "Shop", "due": None})
    result = run_client(
        """
        import anvil.server
        rows = anvil.server.call("get_tasks")
        print(len(ASKED))
        print([row["name"] for row in rows])
        print(json.dumps(ASKED[1:]))
        """,
        {
            "get_tasks": {"ok": True, "result": first},
            "-/rows": {"ok": True, "rows": [second], "more": False},
        },
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1"  # nothing fetched before iterating
    assert lines[1] == "['Walk the dog', 'Shop']"
    assert json.loads(lines[2]) == [["-/rows", {"ref": "signed-search", "offset": 1}]]


def _task_answer(status, **fields):
    task = {
        "id": "5",
        "name": "train",
        "started_at": None,
        "termination_status": status,
        "state": {},
        "error": None,
        "return_value": None,
    }
    return {"ok": True, "task": {**task, **fields}}


def test_client_task_reports_progress_and_raises_the_tasks_error():
    result = run_client(
        """
        import anvil.server
        task = anvil.server.call("launch")
        print(task.is_running(), task.get_state()["progress"])
        print(task.is_completed(), task.get_termination_status())
        for method in (task.get_error, task.get_return_value, task.is_completed):
            try:
                method()
            except ValueError as error:
                failed = isinstance(error, anvil.server.BackgroundTaskError)
                print(type(error).__name__, error, failed)
        try:
            task.kill()
        except RuntimeError as error:
            print("kill refused")
        """,
        {
            "launch": {
                "ok": True,
                "result": {"$t": "task", "id": "5", "name": "train", "ref": "r5"},
            },
            "-/task": [
                _task_answer(None, state={"progress": 42}),
                _task_answer(None, state={"progress": 42}),
                _task_answer(None),
                _task_answer(None),
                *[_task_answer("failed", error={"type": "ValueError", "message": "bad data"})] * 3,
            ],
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "True 42",
        "False None",
        "ValueError bad data True",
        "ValueError bad data True",
        "ValueError bad data True",
        "kill refused",
    ]


def test_client_task_return_value_decodes_portable_values():
    result = run_client(
        """
        import anvil.server
        task = anvil.server.call("launch")
        print(task.is_completed(), repr(task.get_return_value()))
        """,
        {
            "launch": {
                "ok": True,
                "result": {"$t": "task", "id": "5", "name": "train", "ref": "r5"},
            },
            "-/task": _task_answer("completed", return_value={"$t": "date", "v": "2024-05-01"}),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True datetime.date(2024, 5, 1)"


@pytest.mark.parametrize(
    "site_error, anvil_error",
    [
        ("NoServerFunctionError", "NoServerFunctionError"),
        ("SerializationError", "SerializationError"),
        ("TimeLimitExceeded", "TimeoutError"),
        ("CPULimitExceeded", "ExecutionTerminatedError"),
        ("MemoryError", "ExecutionTerminatedError"),
        ("SandboxError", "InternalError"),
    ],
)
def test_client_code_gets_anvils_error_classes(site_error, anvil_error):
    result = run_client(
        f"""
        import anvil.server
        try:
            anvil.server.call("f")
        except anvil.server.{anvil_error} as error:
            print("caught", isinstance(error, anvil.server.ServerError), error)
        """,
        {"f": {"ok": False, "error": {"type": site_error, "message": "it went wrong"}}},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "caught True it went wrong"
