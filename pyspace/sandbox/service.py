"""The machine's sandbox service: one process keeps the warm pool and the fair queues, and every
web worker and queue consumer on the machine leases its sandboxes from it.

Why a process of its own: several web workers each with a pool would hold several pools' memory
and split the per-account caps between them (an account could have its cap running in every
worker), and a sandbox forked from a big web process costs that process's page tables and GIL.
`./manage.sh serve` and `./manage.sh worker` start it (`flask sandbox serve`) at
instance/sandbox.sock and give its path to the others as SANDBOX_SERVICE.

A lease is one connection to the Unix socket, framed as the sandbox channel is (`wire.py`):

- client: `{"op": "lease", "role", "key", "timeout", "hold_seconds"}`; the service waits for a slot
  in `role`'s fair queue for `key` (the same `FairQueue` as in one process), takes a sandbox
  and answers `{"pid", "warm", "pending"}` with the sandbox's stdout, stderr and channel as file
  descriptors (SCM_RIGHTS), or `{"refused": kind, "message"}`;
- the client then talks to the sandbox directly (the service never reads what the code says or
  asks: the channel services, and the secrets they read, stay in the process that asked), and
  may ask `{"op": "wait", "timeout"}` (the exit status, as only the parent can reap it) and
  `{"op": "memory"}` (the cgroup's counts, read before the cgroup is removed);
- closing the connection ends the lease: the sandbox is killed and reaped, and the slot freed.
  A client that dies mid-run ends it the same way.

`{"op": "state"}` answers `RunnerState` (for /healthz and the status page).

Only processes of the service's own user may connect: the socket lives in the 0700 instance
folder, is made 0600, and the service checks each peer's uid (SO_PEERCRED).
"""

import contextlib
import dataclasses
import logging
import os
import socket
import socketserver
import stat
import struct
import subprocess
import threading
from collections.abc import Iterator

from . import START_ATTEMPTS, LocalRunner, Runner, RunnerState
from .bwrap import MAX_FRAME_BYTES, Sandbox
from .cgroups import MemoryUsage
from .fairness import RunRefusedError, SandboxUnavailableError
from .pool import READY_TIMEOUT
from .services import ChannelServices
from .settings import RunnerSettings
from .wire import ChannelError, FrameReader, encode_frame

log = logging.getLogger(__name__)

# How long a lease may outlive the run's own time limit before the service ends it anyway: a
# client stuck past its wall time must not keep a slot for ever.
HOLD_MARGIN_SECONDS = 30.0
# How long a client waits for the service to answer anything but a lease (it answers at once).
ANSWER_SECONDS = 10.0
# Messages between a client and the service are small: a lease's answer carries the sandbox's
# "ready" message, nothing the code wrote.
MAX_MESSAGE_BYTES = 64 * 1024
_PEER_CREDENTIALS = struct.Struct("3i")
# How often the serving (main) thread wakes to run a signal handler another thread caught.
WAKE_SECONDS = 0.5


class _Connection:
    """One end of a service connection: whole messages in and out."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._reader = FrameReader(MAX_MESSAGE_BYTES)
        self._pending: list[dict] = []

    def send(self, message: dict, fds: list[int] | None = None) -> None:
        data = encode_frame(message)
        if fds:
            sent = socket.send_fds(self.sock, [data], fds)
            data = data[sent:]
        if data:
            self.sock.sendall(data)

    def receive(self, timeout: float | None) -> tuple[dict | None, list[int]]:
        """The next message (None: the other end closed) and any descriptors sent with it."""
        self.sock.settimeout(timeout)
        fds: list[int] = []
        while not self._pending:
            data, received, _flags, _address = socket.recv_fds(self.sock, 65536, 8)
            fds += received
            if not data:
                return None, fds
            self._pending += self._reader.feed(data)
        return self._pending.pop(0), fds


# The service


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The standard library's threaded server: a daemon thread per connection, and a
    `serve_forever` that wakes every half second. That wake matters: the kernel may hand SIGTERM
    to any thread, Python runs its handler only in the main thread once it runs again, and an
    accept that waited for ever left a stopped service running."""

    daemon_threads = True
    request_queue_size = 128

    def server_bind(self) -> None:
        # Made 0600 from the start: no moment in which another user could connect.
        old_umask = os.umask(0o177)
        try:
            super().server_bind()
        finally:
            os.umask(old_umask)


class SandboxService:
    """Serves leases of `runner`'s sandboxes on the Unix socket `path` (see the module)."""

    def __init__(self, runner: LocalRunner, path: str):
        self.runner = runner
        self.path = path
        self._server: _UnixServer | None = None
        self._serving = threading.Event()

    def bind(self) -> None:
        """Listen on the socket (0600), replacing one a dead service left behind."""
        if os.path.exists(self.path):
            if _answers(self.path):
                raise OSError(f"a sandbox service already listens on {self.path}")
            if not stat.S_ISSOCK(os.lstat(self.path).st_mode):
                raise OSError(f"{self.path} exists and is not a socket")
            os.unlink(self.path)
        service = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                service._serve_connection(self.request)

        self._server = _UnixServer(self.path, Handler)

    def serve_forever(self) -> None:
        assert self._server is not None, "bind() first"
        self._serving.set()
        self._server.serve_forever(poll_interval=WAKE_SECONDS)

    def close(self) -> None:
        """Stop serving (from any thread) and remove the socket."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._serving.is_set():
            server.shutdown()  # returns at once if serve_forever already ended (a signal)
        server.server_close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _serve_connection(self, sock: socket.socket) -> None:
        connection = _Connection(sock)
        try:
            if not _same_user(sock):
                return
            request, fds = connection.receive(ANSWER_SECONDS)
            for fd in fds:  # a client has no reason to send any
                os.close(fd)
            if request is None:
                return
            if request.get("op") == "state":
                connection.send(dataclasses.asdict(self.runner.state()))
            elif request.get("op") == "lease":
                self._lease(connection, request)
        except (OSError, ChannelError, ValueError, TypeError):
            log.exception("sandbox service: a connection failed")
        finally:
            sock.close()

    def _lease(self, connection: _Connection, request: dict) -> None:
        role, key = str(request["role"]), str(request["key"])
        granted = False
        try:
            with self.runner.lease(role, key, float(request["timeout"])) as (sandbox, warm):
                granted = True
                try:
                    process = sandbox.process
                    streams = (process.stdout, process.stderr, sandbox.channel)
                    connection.send(
                        {"pid": process.pid, "warm": warm, "pending": sandbox.pending},
                        [stream.fileno() for stream in streams],  # type: ignore[union-attr]
                    )
                    self._answer_until_closed(connection, sandbox, float(request["hold_seconds"]))
                finally:
                    sandbox.discard()
        except RunRefusedError as refusal:
            connection.send({"refused": refusal.kind, "message": str(refusal)})
        except OSError:
            if granted:
                return  # the client went away mid-run: its sandbox is gone with the lease
            log.exception("sandbox service: could not start a sandbox")
            connection.send(
                {
                    "refused": "SandboxError",
                    "message": "The sandbox could not be started. Please try again.",
                }
            )

    @staticmethod
    def _answer_until_closed(connection: _Connection, sandbox: Sandbox, hold: float) -> None:
        while True:
            try:
                message, _ = connection.receive(hold + HOLD_MARGIN_SECONDS)
            except TimeoutError:
                log.warning("sandbox service: a lease outlived its run's time; ending it")
                return
            except ConnectionError:
                return  # the client died: as good as closing
            if message is None:
                return
            if message.get("op") == "wait":
                try:
                    code: int | None = sandbox.process.wait(timeout=float(message["timeout"]))
                except subprocess.TimeoutExpired:
                    code = None
                connection.send({"returncode": code})
            elif message.get("op") == "memory":
                usage = sandbox.memory_usage()
                connection.send({"memory": dataclasses.asdict(usage) if usage else None})


def _same_user(sock: socket.socket) -> bool:
    credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER_CREDENTIALS.size)
    _pid, uid, _gid = _PEER_CREDENTIALS.unpack(credentials)
    if uid != os.getuid():
        log.warning("sandbox service: refused a connection from uid %d", uid)
        return False
    return True


def _answers(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


# The client


class _LeasedProcess:
    """The sandbox's process as a lease shows it: its pid and output pipes here, its exit
    status from the service (its parent)."""

    def __init__(self, connection: _Connection, pid: int, stdout_fd: int, stderr_fd: int):
        self._connection = connection
        self.pid = pid
        self.stdout = os.fdopen(stdout_fd, "rb", buffering=0)
        self.stderr = os.fdopen(stderr_fd, "rb", buffering=0)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self._wait(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._wait(timeout if timeout is not None else 1e9)
        if code is None:
            raise subprocess.TimeoutExpired(f"sandbox {self.pid}", timeout or 0)
        return code

    def _wait(self, timeout: float) -> int | None:
        if self.returncode is None:
            self._connection.send({"op": "wait", "timeout": timeout})
            answer, _ = self._connection.receive(timeout + ANSWER_SECONDS)
            if answer is None:
                raise ConnectionResetError("the sandbox service closed the lease")
            self.returncode = answer["returncode"]
        return self.returncode


class LeasedSandbox(Sandbox):
    """A sandbox leased from the service: the same interface `exchange.execute` uses."""

    def __init__(self, connection: _Connection, granted: dict, fds: list[int]):
        stdout_fd, stderr_fd, channel_fd = fds
        self._connection = connection
        # Sandbox's attributes, but the process is the service's child.
        self.process = _LeasedProcess(connection, int(granted["pid"]), stdout_fd, stderr_fd)  # type: ignore[assignment]
        self.channel = socket.socket(fileno=channel_fd)
        self.network = None
        self.reader = FrameReader(MAX_FRAME_BYTES)
        self.pending = list(granted["pending"])
        self.cgroup = None
        self._scratch = None

    def memory_usage(self) -> MemoryUsage | None:
        self._connection.send({"op": "memory"})
        answer, _ = self._connection.receive(ANSWER_SECONDS)
        usage = (answer or {}).get("memory")
        return MemoryUsage(**usage) if usage else None

    def discard(self) -> None:
        """End the lease: the service kills and reaps the sandbox."""
        self.destroy()

    def destroy(self) -> None:
        process = self.process
        for stream in (process.stdout, process.stderr, self.channel):
            if stream is not None:
                stream.close()
        self._connection.sock.close()


def _connect(path: str) -> _Connection:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as error:
        sock.close()
        log.error("the sandbox service at %s does not answer: %s", path, error)
        raise SandboxUnavailableError(
            "This server can't run code right now: its sandbox service is not running. Ask the "
            "administrator to look at the server's log."
        ) from None
    return _Connection(sock)


def state_of(path: str) -> dict | None:
    """The service's RunnerState as a dict, or None when it does not answer."""
    try:
        connection = _connect(path)
    except SandboxUnavailableError:
        return None
    with contextlib.closing(connection.sock):
        try:
            connection.send({"op": "state"})
            answer, _ = connection.receive(ANSWER_SECONDS)
        except OSError:
            return None
    return answer


@contextlib.contextmanager
def lease(
    path: str, role: str, key: str, timeout: float, hold_seconds: float
) -> Iterator[tuple[Sandbox, bool]]:
    """A sandbox from the service at `path` for the block (see the module docstring)."""
    connection = _connect(path)
    sandbox: LeasedSandbox | None = None
    try:
        connection.send(
            {
                "op": "lease",
                "role": role,
                "key": key,
                "timeout": timeout,
                "hold_seconds": hold_seconds,
            }
        )
        # The service answers once a slot is free (at most `timeout`) and a sandbox started.
        granted, fds = connection.receive(timeout + READY_TIMEOUT * START_ATTEMPTS + ANSWER_SECONDS)
        if granted is None or "refused" in granted:
            for fd in fds:
                os.close(fd)
            if granted is None:
                raise OSError("the sandbox service closed the connection")
            raise RunRefusedError(str(granted["message"]), kind=str(granted["refused"]))
        sandbox = LeasedSandbox(connection, granted, fds)
        yield sandbox, bool(granted["warm"])
    finally:
        if sandbox is not None:
            sandbox.destroy()
        else:
            connection.sock.close()


class ServiceRunner(Runner):
    """The runner of a process that leases its sandboxes from the machine's sandbox service."""

    def __init__(self, settings: RunnerSettings, services: ChannelServices, path: str, role: str):
        super().__init__(settings, services, role)
        self.path = path

    def state(self) -> RunnerState:
        answer = state_of(self.path)
        if answer is None:
            problem = f"the sandbox service at {self.path} does not answer"
            return RunnerState(sandboxed=False, usable=False, problem=problem, idle=0, pool_size=0)
        return RunnerState(**answer)

    def _lease(
        self, key: str, wall_seconds: float
    ) -> contextlib.AbstractContextManager[tuple[Sandbox, bool]]:
        return lease(self.path, self.role, key, self.settings.queue_seconds, wall_seconds)


def serve(runner: LocalRunner, path: str) -> None:
    """Serve leases of `runner`'s sandboxes at `path` until the process is stopped."""
    service = SandboxService(runner, path)
    service.bind()
    log.info("sandbox service listening on %s", path)
    try:
        service.serve_forever()
    finally:
        service.close()
