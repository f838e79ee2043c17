"""`anvil.server.context`: who started this run, as Anvil's CallContext.

- `context.type` is "server_module" (this is server code);
- `context.client.type`: "browser" (a GUI widget's call, or the Run button), "http" (an HTTP
  endpoint) or "background_task" (a background or scheduled task); `context.client.ip` the
  caller's address where there is one; `context.client.location` None (not looked up);
- `context.remote_caller`: a frame with `.type` (as client.type) and `.is_trusted` (True for
  code of the widget itself: background tasks);
- `context.background_task_id`: inside a background task, its id (Task.get_id()), else None.
"""

TRUSTED_TYPES = ("server_module", "background_task")


class ClientInfo:
    """`context.client`: the kind of client and its address."""

    def __init__(self, type, ip):
        self.type = type
        self.ip = ip
        self.location = None

    def __repr__(self) -> str:
        return f"<ClientInfo:{self.__dict__!r}>"


class StackFrame:
    """`context.remote_caller`: what called this code, and whether it is the widget's own."""

    def __init__(self, type):
        self.type = type
        self.is_trusted = type in TRUSTED_TYPES

    def __repr__(self) -> str:
        return f"<StackFrame:{self.__dict__!r}>"


class CallContext:
    """`anvil.server.context`."""

    def __init__(self):
        self.type = "server_module"
        self._setup({})

    def _setup(self, info: dict) -> None:
        client_type = info.get("client_type") or "browser"
        self.client = ClientInfo(client_type, info.get("ip"))
        self.remote_caller = StackFrame(client_type)
        self.call_stack = [self.remote_caller]
        self.background_task_id = info.get("background_task_id")

    def __repr__(self) -> str:
        return f"<CallContext:{self.__dict__!r}>"


context = CallContext()
