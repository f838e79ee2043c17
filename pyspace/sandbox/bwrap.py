"""Starting one sandbox: bubblewrap around Debian's Python running the sandbox runtime.

What the code inside sees: a read-only root and /usr (Python and its standard library), the
runtime and the sandbox packages read-only under /opt/pyspace, fresh /proc and /dev, empty
size-limited /tmp and /dev/shm that disappear with it — and, with the network on, the few
/etc files DNS and TLS need. Not the project, not instance/ (database, key file), not other
users' data. It runs as uid 65534 in its own user, PID, IPC, UTS, cgroup and network
namespaces, may create no user namespace of its own, and runs under a seccomp filter
(`seccomp_filter.py`) in a cgroup of its own (`cgroups.py`); as root we also start bubblewrap
itself as uid 65534, so even the kernel's accounting (RLIMIT_NPROC) sees an unprivileged user.
Its network namespace is always its own: with the network on, `network.py` gives it
outbound-only access before any code runs.

What the host is and does stays out of sight: the host's load, uptime, kernel version and boot
command line in /proc read as neutral files (`HIDDEN_PROC_FILES`), and bubblewrap reads its
arguments from a file descriptor (`--args`), so the sandbox's PID 1 — a copy of bubblewrap —
shows no host path in its command line. (The `uname` system call still tells the kernel's
release.)
"""

import atexit
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
from dataclasses import dataclass, field, replace

from .cgroups import CgroupLimits, MemoryUsage, RunCgroup, join_command
from .host import SandboxHost, diagnose
from .network import RunNetwork, attach_network, parse_allow_list, read_child_pid, resolv_conf
from .seccomp import program_fd
from .settings import PROJECT_DIR, Limits
from .wire import FrameReader, encode_frame

PYTHON = "/usr/bin/python3"
RUNTIME_DIR = str(PROJECT_DIR / "sandbox_runtime")
INSIDE_RUNTIME = "/opt/pyspace/runtime"
INSIDE_PACKAGES = "/opt/pyspace/site-packages"
NOBODY = 65534
SETPRIV = "/usr/bin/setpriv"
SETPRIV_NOBODY = ("--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups", "--")
# How long the start-up probe waits for a sandbox to get ready.
PROBE_SECONDS = 10.0
# Read-only files that name resolution and TLS need when the network is on (resolv.conf is
# the run's own, naming the DNS forwarder).
NETWORK_FILES = (
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/gai.conf",
)
# Messages from the sandbox larger than this are refused (results, requests).
MAX_FRAME_BYTES = 8 * 1024 * 1024
# What a run reads instead of the host's own: its load, uptime, kernel and boot command line.
HIDDEN_PROC_FILES = {
    "/proc/loadavg": "0.00 0.00 0.00 1/1 1\n",
    "/proc/uptime": "0.00 0.00\n",
    "/proc/version": "Linux version sandbox\n",
    "/proc/cmdline": "\n",
    "/proc/sys/kernel/osrelease": "sandbox\n",
    "/proc/sys/kernel/version": "sandbox\n",
}


def bwrap_command(
    limits: Limits,
    packages_dir: str,
    channel_fd: int,
    runtime_dir: str = RUNTIME_DIR,
    seccomp_fd: int | None = None,
    info_fd: int | None = None,
) -> list[str]:
    """The bubblewrap command line for one sandbox (nothing secret: argv is visible).

    `info_fd`: where bubblewrap reports the sandbox's PID, so its network can be attached."""
    command = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--unshare-user",
        # No user namespaces inside: they would give widget code full capabilities over
        # mounts and network interfaces of its own (kernel attack surface).
        "--disable-userns",
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
        *_hidden_proc_binds(),
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
        runtime_dir,
        INSIDE_RUNTIME,
    ]
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    if os.path.isdir(packages_dir):
        command += ["--ro-bind", packages_dir, INSIDE_PACKAGES]
    if limits.network:
        command += ["--ro-bind", resolv_conf(), "/etc/resolv.conf"]
        for path in NETWORK_FILES:
            command += ["--ro-bind-try", path, path]
    if info_fd is not None:
        command += ["--info-fd", str(info_fd)]
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


@functools.cache
def _neutral_proc_dir() -> str:
    """A folder of this process with the neutral contents of HIDDEN_PROC_FILES (mode 0711,
    files 0644: bubblewrap, running as nobody, binds them by name)."""
    path = tempfile.mkdtemp(prefix="pyspace-proc-")
    os.chmod(path, 0o711)
    for name, content in HIDDEN_PROC_FILES.items():
        file = os.path.join(path, name.strip("/").replace("/", "-"))
        with open(file, "w") as neutral:
            neutral.write(content)
        os.chmod(file, 0o644)
    atexit.register(_remove_neutral_proc_dir, path, os.getpid())
    return path


def _remove_neutral_proc_dir(path: str, owner_pid: int) -> None:
    # A forked child inherits the registration; only the process that made the folder removes it.
    if os.getpid() == owner_pid:
        shutil.rmtree(path, ignore_errors=True)


def _hidden_proc_binds() -> list[str]:
    folder = _neutral_proc_dir()
    binds = []
    for name in HIDDEN_PROC_FILES:
        binds += ["--ro-bind", os.path.join(folder, name.strip("/").replace("/", "-")), name]
    return binds


def _arguments_fd(arguments: list[str]) -> int:
    """A file descriptor holding `arguments` NUL-separated, for bubblewrap's `--args`."""
    fd = os.memfd_create("bwrap-args", 0)
    os.write(fd, b"".join(argument.encode() + b"\0" for argument in arguments))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def bare_python_command(
    limits: Limits, runtime_dir: str = RUNTIME_DIR, seccomp_fd: int | None = None
) -> list[str]:
    """The same sandbox running only `python3 -I -S -c pass` (the cold baseline that
    benchmarks compare runs with)."""
    command = bwrap_command(limits, "/nonexistent", 0, runtime_dir, seccomp_fd)
    return [*command[: command.index(PYTHON)], PYTHON, "-I", "-S", "-c", "pass"]


def unsandboxed_command(
    packages_dir: str, channel_fd: int, runtime_dir: str = RUNTIME_DIR
) -> list[str]:
    """The same runtime as a plain process — only when ALLOW_UNSANDBOXED_RUNS says so."""
    return [
        PYTHON,
        "-I",
        "-S",
        "-B",
        os.path.join(runtime_dir, "bootstrap.py"),
        str(channel_fd),
        packages_dir,
    ]


def as_nobody() -> dict:
    """Popen arguments that drop root before bubblewrap starts (nothing to drop otherwise)."""
    if os.geteuid() != 0:
        return {}
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []}


def bubblewrap_problem(host: SandboxHost, limits: Limits) -> str | None:
    """Why sandboxes can't be started on this machine — the cause and the fix — or None when
    they can: starts one real sandbox, with the run's limits, filter and cgroup."""
    probe_limits = replace(limits, network=False)
    try:
        sandbox = start_sandbox(probe_limits, host.packages_dir, host=host)
    except OSError as error:
        return f"bubblewrap could not start: {error}"
    if sandbox.wait_ready(PROBE_SECONDS):
        sandbox.destroy()
        return None
    try:
        returncode = sandbox.process.wait(timeout=PROBE_SECONDS)
        assert sandbox.process.stderr is not None  # started with stderr=PIPE
        stderr = sandbox.process.stderr.read().decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        returncode, stderr = None, "(the sandbox did not get ready in time)"
    sandbox.destroy()
    return diagnose(stderr, returncode)


class Sandbox:
    """One sandbox process and the host's end of its channel. Used for exactly one run."""

    def __init__(
        self,
        process: subprocess.Popen,
        channel: socket.socket,
        scratch: str | None,
        cgroup: RunCgroup | None = None,
        network: RunNetwork | None = None,
    ):
        self.process = process
        self.channel = channel
        self.network = network
        self.reader = FrameReader(MAX_FRAME_BYTES)
        self.pending: list[dict] = []
        self._scratch = scratch
        self.cgroup = cgroup

    def memory_usage(self) -> MemoryUsage | None:
        """What the kernel recorded about this sandbox's memory (None: no cgroup)."""
        return self.cgroup.memory_usage() if self.cgroup else None

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

    def preload(self, modules: tuple[str, ...], timeout: float) -> bool:
        """Have the waiting runtime import `modules` now; True once it says it is ready again."""
        self.pending.clear()
        self.channel.sendall(encode_frame({"op": "preload", "modules": list(modules)}))
        return self.wait_ready(timeout)

    def discard(self) -> None:
        """Kill the sandbox (and everything in it) and reap it without making anyone wait."""
        _reaper.bury(self)

    def destroy(self) -> None:
        """Kill and reap now."""
        # Killing bubblewrap's child (PID 1 of the sandbox) takes every process in the sandbox
        # with it and lets bubblewrap exit and be reaped normally; killing bubblewrap first
        # would leave that child for the system's init to reap.
        children = _children(self.process.pid)
        if self.cgroup:
            self.cgroup.kill_all()
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
        if self.cgroup:
            self.cgroup.remove()
        if self.network is not None:
            self.network.close()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except OSError:
        return []


@dataclass
class _Launch:
    """How to start one sandbox's process, and what was opened for it (closed on failure)."""

    command: list[str]
    cwd: str
    extra: dict = field(default_factory=dict)
    passed: list[int] = field(default_factory=list)
    cgroup: RunCgroup | None = None
    seccomp_fd: int | None = None
    arguments_fd: int | None = None
    scratch: str | None = None

    def close_fds(self) -> None:
        """Close what only the child needed (after it started, or when it couldn't)."""
        if self.seccomp_fd is not None:
            os.close(self.seccomp_fd)
            self.seccomp_fd = None
        if self.arguments_fd is not None:
            os.close(self.arguments_fd)
            self.arguments_fd = None

    def undo(self) -> None:
        """Remove what was made for a sandbox that never started."""
        if self.cgroup:
            self.cgroup.remove()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _sandboxed_launch(
    limits: Limits,
    packages_dir: str,
    fd: int,
    host: SandboxHost | None,
    info_fd: int | None,
) -> _Launch:
    launch = _Launch(command=[], cwd="/", extra=as_nobody(), passed=[fd])
    runtime_dir = RUNTIME_DIR
    if host is not None:
        runtime_dir = host.runtime_dir
        launch.seccomp_fd = program_fd(host.seccomp_program)
        launch.passed.append(launch.seccomp_fd)
    if info_fd is not None:
        launch.passed.append(info_fd)
    command = bwrap_command(limits, packages_dir, fd, runtime_dir, launch.seccomp_fd, info_fd)
    # Read from a descriptor, the options (host paths) are not in the command line that the
    # sandbox's PID 1, a copy of bubblewrap, shows inside; the code's command has none.
    inside = command.index(PYTHON)
    launch.arguments_fd = _arguments_fd(command[1:inside])
    launch.passed.append(launch.arguments_fd)
    launch.command = [command[0], "--args", str(launch.arguments_fd), "--", *command[inside:]]
    if host is not None and host.cgroups is not None:
        try:
            launch.cgroup = host.cgroups.create(
                CgroupLimits(limits.memory_mb, limits.max_processes, limits.cpu_cores)
            )
        except BaseException:
            launch.close_fds()
            raise
        # The shell joins the cgroup as root, then drops to uid 65534 for bubblewrap.
        if launch.extra:
            launch.command = [SETPRIV, *SETPRIV_NOBODY, *launch.command]
            launch.extra = {}
        launch.command = join_command(launch.cgroup, launch.command)
    return launch


def _unsandboxed_launch(packages_dir: str, fd: int, runtime_dir: str) -> _Launch:
    scratch = tempfile.mkdtemp(prefix="pyspace-run-")
    extra = as_nobody()
    if extra:
        os.chown(scratch, NOBODY, NOBODY)
    command = unsandboxed_command(packages_dir, fd, runtime_dir)
    return _Launch(command, scratch, extra, [fd], scratch=scratch)


def start_sandbox(
    limits: Limits,
    packages_dir: str,
    sandboxed: bool = True,
    host: SandboxHost | None = None,
    runtime_dir: str = RUNTIME_DIR,
) -> Sandbox:
    """Start a sandbox that imports the runtime and then waits for its job on the channel.

    With `host`, the sandbox runs the host's copy of the runtime, under its seccomp filter and
    in a cgroup of its own (when the host has cgroups). Unsandboxed, the plain process runs
    the runtime in `runtime_dir`."""
    host_end, sandbox_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    info_read, info_write = os.pipe() if sandboxed and limits.network else (None, None)
    launch: _Launch | None = None
    try:
        fd = sandbox_end.fileno()
        if sandboxed:
            launch = _sandboxed_launch(limits, packages_dir, fd, host, info_write)
        else:
            launch = _unsandboxed_launch(packages_dir, fd, runtime_dir)
        process = subprocess.Popen(
            launch.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=launch.passed,
            cwd=launch.cwd,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            start_new_session=True,
            **launch.extra,
        )
    except BaseException:
        host_end.close()
        if launch is not None:
            launch.undo()
        if info_read is not None:
            os.close(info_read)
        raise
    finally:
        sandbox_end.close()
        if launch is not None:
            launch.close_fds()
        if info_write is not None:
            os.close(info_write)
    sandbox = Sandbox(process, host_end, launch.scratch, launch.cgroup)
    if info_read is not None:
        # The code only runs once the job arrives, and that is after this returns.
        try:
            pid = read_child_pid(info_read)
            sandbox.network = attach_network(pid, parse_allow_list(limits.network_allow))
        except BaseException:
            sandbox.destroy()
            raise
    return sandbox


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
