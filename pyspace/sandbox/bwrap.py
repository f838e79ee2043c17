"""Starting one sandbox: bubblewrap around Debian's Python running the sandbox runtime.

What the code inside sees: a read-only root and /usr (Python and its standard library), the
runtime and the sandbox packages read-only under /opt/pyspace, fresh /proc and /dev, empty
size-limited /tmp and /dev/shm that disappear with it — and, with the network on, the few
/etc files DNS and TLS need. Not the project, not instance/ (database, key file), not other
users' data.
It runs as uid 65534 in its own user, PID, IPC, UTS, cgroup (and, network off, network)
namespaces; as root we also start bubblewrap itself as uid 65534, so even the kernel's
accounting (RLIMIT_NPROC) sees an unprivileged user.
"""

import contextlib
import functools
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from .channel import FrameReader
from .settings import PROJECT_DIR, Limits

PYTHON = "/usr/bin/python3"
RUNTIME_DIR = str(PROJECT_DIR / "sandbox_runtime")
INSIDE_RUNTIME = "/opt/pyspace/runtime"
INSIDE_PACKAGES = "/opt/pyspace/site-packages"
NOBODY = 65534
# Read-only files that name resolution and TLS need when the network is on.
NETWORK_FILES = (
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/gai.conf",
)
# Messages from the sandbox larger than this are refused (results, requests).
MAX_FRAME_BYTES = 8 * 1024 * 1024


def bwrap_command(limits: Limits, packages_dir: str, channel_fd: int) -> list[str]:
    """The bubblewrap command line for one sandbox (nothing secret: argv is visible)."""
    command = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--unshare-user",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
        "--hostname",
        "sandbox",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/sbin",
        "/sbin",
        "--ro-bind-try",
        "/etc/ld.so.cache",
        "/etc/ld.so.cache",
        "--ro-bind-try",
        "/etc/localtime",
        "/etc/localtime",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # Only the two size-capped scratch mounts are writable: a write anywhere else (the
        # sandbox's root, /dev) would otherwise land in unlimited memory.
        "--remount-ro",
        "/dev",
        "--size",
        str(limits.scratch_mb * 1024 * 1024),
        "--tmpfs",
        "/dev/shm",
        "--size",
        str(limits.scratch_mb * 1024 * 1024),
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        RUNTIME_DIR,
        INSIDE_RUNTIME,
    ]
    if os.path.isdir(packages_dir):
        command += ["--ro-bind", packages_dir, INSIDE_PACKAGES]
    if limits.network:
        command.append("--share-net")
        for path in NETWORK_FILES:
            command += ["--ro-bind-try", path, path]
    command += [
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/bin:/bin",
        "--setenv",
        "HOME",
        "/tmp",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--chdir",
        "/tmp",
        "--remount-ro",
        "/",
        PYTHON,
        "-I",
        "-S",
        "-B",
        f"{INSIDE_RUNTIME}/bootstrap.py",
        str(channel_fd),
        INSIDE_PACKAGES,
    ]
    return command


def bare_python_command(limits: Limits) -> list[str]:
    """The same sandbox running only `python3 -I -S -c pass` (the probe, and the cold baseline
    that benchmarks compare runs with)."""
    command = bwrap_command(limits, "/nonexistent", 0)
    return [*command[: command.index(PYTHON)], PYTHON, "-I", "-S", "-c", "pass"]


def unsandboxed_command(packages_dir: str, channel_fd: int) -> list[str]:
    """The same runtime as a plain process — only when ALLOW_UNSANDBOXED_RUNS says so."""
    return [
        PYTHON,
        "-I",
        "-S",
        "-B",
        os.path.join(RUNTIME_DIR, "bootstrap.py"),
        str(channel_fd),
        packages_dir,
    ]


def as_nobody() -> dict:
    """Popen arguments that drop root before bubblewrap starts (nothing to drop otherwise)."""
    if os.geteuid() != 0:
        return {}
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []}


@functools.cache
def bubblewrap_problem() -> str | None:
    """Why sandboxes can't be started on this machine, or None when they can (checked once)."""
    if not os.path.exists(PYTHON):
        return f"{PYTHON} is missing: install Debian's python3."
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian package 'bubblewrap')."
    probe = bare_python_command(Limits(network=False))
    try:
        completed = subprocess.run(
            probe, check=False, capture_output=True, timeout=10, env={}, **as_nobody()
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start: {error}"
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip()[:300]
        return f"bubblewrap could not start a sandbox here: {detail or completed.returncode}"
    return None


class Sandbox:
    """One sandbox process and the host's end of its channel. Used for exactly one run."""

    def __init__(self, process: subprocess.Popen, channel: socket.socket, scratch: str | None):
        self.process = process
        self.channel = channel
        self.reader = FrameReader(MAX_FRAME_BYTES)
        self.pending: list[dict] = []
        self._scratch = scratch

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the runtime is imported and the sandbox waits for its job."""
        deadline = time.monotonic() + timeout
        try:
            while not self.pending:
                self.channel.settimeout(max(0.001, deadline - time.monotonic()))
                data = self.channel.recv(65536)
                if not data:
                    return False
                self.pending += self.reader.feed(data)
        except (OSError, ValueError):
            return False
        return self.pending[0].get("op") == "ready"

    def discard(self) -> None:
        """Kill the sandbox (and everything in it) and reap it without making anyone wait."""
        _reaper.bury(self)

    def destroy(self) -> None:
        """Kill and reap now."""
        # Killing bubblewrap's child (PID 1 of the sandbox) takes every process in the sandbox
        # with it and lets bubblewrap exit and be reaped normally; killing bubblewrap first
        # would leave that child for the system's init to reap.
        children = _children(self.process.pid)
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=1 if children else 0.01)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.channel.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except OSError:
        return []


def start_sandbox(limits: Limits, packages_dir: str, sandboxed: bool = True) -> Sandbox:
    """Start a sandbox that imports the runtime and then waits for its job on the channel."""
    host_end, sandbox_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    scratch = None
    try:
        fd = sandbox_end.fileno()
        if sandboxed:
            command, cwd, extra = bwrap_command(limits, packages_dir, fd), "/", as_nobody()
        else:
            scratch = tempfile.mkdtemp(prefix="pyspace-run-")
            extra = as_nobody()
            if extra:
                os.chown(scratch, NOBODY, NOBODY)
            command, cwd = unsandboxed_command(packages_dir, fd), scratch
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(fd,),
            cwd=cwd,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            start_new_session=True,
            **extra,
        )
    except BaseException:
        host_end.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        sandbox_end.close()
    return Sandbox(process, host_end, scratch)


class _Reaper:
    """One background thread per process that kills and reaps finished sandboxes, off the
    request's critical path. Started on first use, so a forking server (gunicorn --preload)
    gets one in each worker rather than a dead copy of the master's."""

    def __init__(self):
        self._graves: queue.Queue[Sandbox] = queue.Queue()
        self._lock = threading.Lock()
        self._pid = None

    def bury(self, sandbox: Sandbox) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._graves = queue.Queue()
                self._pid = os.getpid()
                threading.Thread(
                    target=self._reap_forever,
                    args=(self._graves,),
                    name="sandbox-reaper",
                    daemon=True,
                ).start()
            self._graves.put(sandbox)

    @staticmethod
    def _reap_forever(graves: "queue.Queue[Sandbox]") -> None:
        while True:
            graves.get().destroy()


_reaper = _Reaper()
