"""A cgroup of its own for every sandbox: memory, process and CPU ceilings for the whole run.

Per-process rlimits can't hold memory that belongs to no process (a memfd, files in a tmpfs)
nor add up a run's processes, so the host puts each sandbox — every process in it, from
bubblewrap down — into a fresh cgroup with

- a memory ceiling (`memory.max` / `memory.limit_in_bytes`, swap included): anonymous memory,
  memfd, tmpfs and page cache all count, and at the ceiling the kernel kills in that group only;
- a process ceiling (`pids.max`): processes and threads;
- a CPU quota (`cpu.max` / `cpu.cfs_quota_us`): at most `cpu_cores` CPUs' worth of time.

Both layouts are supported: the unified hierarchy (cgroup v2, Debian 12's default) and separate
v1 controllers (`/sys/fs/cgroup/memory`, `pids`, `cpu`). `detect()` finds which one this process
may write to; it returns None (and the site logs a warning) when neither is writable.

The cgroup is created by the host (root or a delegated user), the sandbox joins it before
bubblewrap starts (see `join_command`), and the host removes it after the run.
"""

import contextlib
import errno
import itertools
import logging
import os
import secrets
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
# The group every sandbox's cgroup is made in, below the cgroup this process lives in.
PARENT_NAME = "pyspace-sandboxes"
# Under cgroup v2 a cgroup with processes can't hand controllers to children: the web process
# moves itself (and the rest of its group) into this leaf first.
HOST_LEAF_NAME = "pyspace-host"
CPU_PERIOD_US = 100_000
# bubblewrap itself and its init process in the sandbox's PID namespace are in the cgroup too.
BUBBLEWRAP_PROCESSES = 2
V1_CONTROLLERS = ("memory", "pids", "cpu")

_names = itertools.count()


@dataclass(frozen=True)
class CgroupLimits:
    """What one sandbox's cgroup is limited to."""

    memory_mb: int
    max_processes: int
    cpu_cores: float

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 1024 * 1024

    @property
    def pids_max(self) -> int:
        return self.max_processes + BUBBLEWRAP_PROCESSES

    @property
    def cpu_quota_us(self) -> int:
        return max(1000, int(self.cpu_cores * CPU_PERIOD_US))


@dataclass
class MemoryUsage:
    """What the kernel recorded about a cgroup's memory by the end of a run."""

    oom_kills: int
    hit_limit: bool


class RunCgroup:
    """One sandbox's cgroup: a directory per hierarchy (one under v2, one per v1 controller)."""

    def __init__(self, version: int, directories: dict[str, Path]):
        self.version = version
        # controller name ("memory", "pids", "cpu"; "unified" under v2) -> directory
        self.directories = directories

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its pid to in order to join (all of them)."""
        return [str(directory / "cgroup.procs") for directory in self.directories.values()]

    def _file(self, controller: str, name: str) -> Path:
        return self.directories["unified" if self.version == 2 else controller] / name

    def pids(self) -> list[int]:
        found: set[int] = set()
        for directory in self.directories.values():
            with contextlib.suppress(OSError):
                found.update(int(pid) for pid in (directory / "cgroup.procs").read_text().split())
        return sorted(found)

    def memory_usage(self) -> MemoryUsage:
        """OOM kills and whether the ceiling was reached, from the kernel's counters."""
        if self.version == 2:
            events = _key_values(self._file("memory", "memory.events"))
            return MemoryUsage(
                oom_kills=events.get("oom_kill", 0),
                hit_limit=events.get("max", 0) > 0 or events.get("oom", 0) > 0,
            )
        control = _key_values(self._file("memory", "memory.oom_control"))
        failcnt = _read_int(self._file("memory", "memory.failcnt"))
        memsw_failcnt = _read_int(self._file("memory", "memory.memsw.failcnt"))
        return MemoryUsage(
            oom_kills=control.get("oom_kill", 0),
            hit_limit=failcnt > 0 or memsw_failcnt > 0 or control.get("under_oom", 0) > 0,
        )

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup (they may have left bubblewrap's tree)."""
        kill_file = self._file("unified", "cgroup.kill") if self.version == 2 else None
        if kill_file is not None and kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
                return
        for pid in self.pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def remove(self, timeout: float = 2.0) -> bool:
        """Kill what is left and remove the cgroup's directories; False if one stayed."""
        deadline = time.monotonic() + timeout
        remaining = list(self.directories.values())
        while remaining:
            self.kill_all()
            still = []
            for directory in remaining:
                try:
                    directory.rmdir()
                except FileNotFoundError:
                    pass
                except OSError as error:
                    if error.errno != errno.EBUSY:
                        log.warning("could not remove cgroup %s: %s", directory, error)
                        continue
                    still.append(directory)
            remaining = still
            if remaining:
                if time.monotonic() > deadline:
                    log.warning("cgroup %s still has processes; left in place", remaining)
                    return False
                # Killed processes leave the cgroup once their parent has reaped them.
                time.sleep(0.01)
        return True


class CgroupManager:
    """Makes the cgroups of this process's sandboxes, below one parent per hierarchy."""

    def __init__(self, version: int, parents: dict[str, Path]):
        self.version = version
        self.parents = parents

    def describe(self) -> str:
        layout = "cgroup v2" if self.version == 2 else "cgroup v1 (memory, pids, cpu)"
        return f"{layout} under {', '.join(str(p) for p in self.parents.values())}"

    def create(self, limits: CgroupLimits) -> RunCgroup:
        """A new, empty cgroup with `limits`; OSError if the kernel refuses."""
        name = f"sandbox-{os.getpid()}-{next(_names)}-{secrets.token_hex(3)}"
        directories: dict[str, Path] = {}
        try:
            for controller, parent in self.parents.items():
                directory = parent / name
                directory.mkdir()
                directories[controller] = directory
            cgroup = RunCgroup(self.version, directories)
            if self.version == 2:
                _write_limits_v2(directories["unified"], limits)
            else:
                _write_limits_v1(directories, limits)
        except OSError:
            RunCgroup(self.version, directories).remove(timeout=0.5)
            raise
        return cgroup

    def remove_leftovers(self) -> None:
        """Remove empty cgroups a killed web process left behind (its pid is gone)."""
        for parent in self.parents.values():
            for child in parent.glob("sandbox-*"):
                pid = child.name.split("-")[1]
                if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                    with contextlib.suppress(OSError):
                        child.rmdir()


def join_command(cgroup: RunCgroup, command: list[str]) -> list[str]:
    """`command`, started by a tiny shell that first moves itself into `cgroup`.

    Joining before bubblewrap starts means every process of the sandbox is born inside the
    cgroup: moving bubblewrap after it started could miss a child it forked already.
    """
    script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *cgroup.procs_files, "--", *command]


def detect(root: Path = CGROUP_ROOT, own_cgroups: str | None = None) -> CgroupManager | None:
    """A manager for the hierarchy this process may make sandbox cgroups in, or None.

    `own_cgroups` is the text of /proc/self/cgroup (given by tests)."""
    if own_cgroups is None:
        own_cgroups = Path("/proc/self/cgroup").read_text()
    paths = _own_paths(own_cgroups)
    problems = []
    for attempt in (_detect_v2, _detect_v1):
        try:
            manager = attempt(root, paths)
        except OSError as error:
            problems.append(f"{attempt.__name__[-2:]}: {error}")
            continue
        if manager is not None:
            manager.remove_leftovers()
            return manager
    if problems:
        log.info("no writable cgroup hierarchy: %s", "; ".join(problems))
    return None


def memory_ceiling(root: Path = CGROUP_ROOT, own_cgroups: str | None = None) -> int | None:
    """The most memory this process's cgroup (or one above it) lets it use, or None if no
    limit is set: a container started with `--memory 2g` says so here, while the machine's
    own figure (`SC_PHYS_PAGES`) still reports the host's memory.

    `own_cgroups` is the text of /proc/self/cgroup (given by tests)."""
    if own_cgroups is None:
        try:
            own_cgroups = Path("/proc/self/cgroup").read_text()
        except OSError:
            return None
    paths = _own_paths(own_cgroups)
    unified = _unified_mount(root)
    candidates = []
    if "" in paths:
        candidates.append((unified, paths[""], "memory.max"))
    if "memory" in paths:
        candidates.append((root / "memory", paths["memory"], "memory.limit_in_bytes"))
    limits = []
    for mount, own, name in candidates:
        directory = mount / own.lstrip("/")
        # The limit of any ancestor holds too; inside a cgroup namespace the walk stops at the
        # container's own root, whose file carries the container's limit.
        while True:
            value = _limit(directory / name)
            if value is not None:
                limits.append(value)
            if directory == mount or mount not in directory.parents:
                break
            directory = directory.parent
    return min(limits, default=None)


def _limit(path: Path) -> int | None:
    """A memory limit file's value in bytes; None for "max", v1's "unlimited" (a page-rounded
    2**63) or a file that isn't there."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit() or int(text) >= 2**62:
        return None
    return int(text)


def _detect_v2(root: Path, paths: dict[str, str]) -> CgroupManager | None:
    unified = _unified_mount(root)
    own = paths.get("")
    if own is None or not (unified / "cgroup.controllers").exists():
        return None
    base = unified / own.lstrip("/")
    available = set((base / "cgroup.controllers").read_text().split())
    if not {"memory", "pids"} <= available:
        return None
    wanted = [c for c in ("memory", "pids", "cpu") if c in available]
    _enable_controllers(base, wanted, move_processes=True)
    parent = base / PARENT_NAME
    parent.mkdir(exist_ok=True)
    _enable_controllers(parent, wanted, move_processes=False)
    return CgroupManager(2, {"unified": parent})


def _unified_mount(root: Path) -> Path:
    """Where the unified (v2) hierarchy is mounted: `root` itself on a v2-only system, else
    `root/unified` beside the v1 controllers (a hybrid layout)."""
    return root if (root / "cgroup.controllers").exists() else root / "unified"


def _enable_controllers(directory: Path, controllers: Sequence[str], move_processes: bool) -> None:
    subtree = directory / "cgroup.subtree_control"
    if set(controllers) <= set(subtree.read_text().split()):
        return
    try:
        subtree.write_text(" ".join("+" + c for c in controllers))
    except OSError as error:
        # "No internal processes": a cgroup with processes can't give its children
        # controllers. Move them into a leaf of their own, as a delegated service would.
        if error.errno != errno.EBUSY or not move_processes:
            raise
        leaf = directory / HOST_LEAF_NAME
        leaf.mkdir(exist_ok=True)
        for pid in (directory / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                (leaf / "cgroup.procs").write_text(pid)
        subtree.write_text(" ".join("+" + c for c in controllers))
        log.info("moved this service's processes into %s to delegate cgroup controllers", leaf)


def _detect_v1(root: Path, paths: dict[str, str]) -> CgroupManager | None:
    parents = {}
    for controller in V1_CONTROLLERS:
        own = paths.get(controller)
        mount = root / controller
        if own is None or not (mount / "cgroup.procs").exists():
            if controller == "cpu":
                continue  # memory and pids are what matters; a CPU quota is a bonus
            return None
        parent = mount / own.lstrip("/") / PARENT_NAME
        parent.mkdir(exist_ok=True)
        parents[controller] = parent
    return CgroupManager(1, parents)


def _write_limits_v2(directory: Path, limits: CgroupLimits) -> None:
    (directory / "memory.max").write_text(str(limits.memory_bytes))
    swap = directory / "memory.swap.max"
    if swap.exists():
        swap.write_text("0")
    (directory / "pids.max").write_text(str(limits.pids_max))
    cpu = directory / "cpu.max"
    if cpu.exists():
        cpu.write_text(f"{limits.cpu_quota_us} {CPU_PERIOD_US}")


def _write_limits_v1(directories: dict[str, Path], limits: CgroupLimits) -> None:
    memory = directories["memory"]
    (memory / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
    # With swap accounting, memory + swap gets the same ceiling: no escape into swap.
    memsw = memory / "memory.memsw.limit_in_bytes"
    if memsw.exists():
        memsw.write_text(str(limits.memory_bytes))
    (memory / "memory.swappiness").write_text("0")
    (directories["pids"] / "pids.max").write_text(str(limits.pids_max))
    if "cpu" in directories:
        (directories["cpu"] / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (directories["cpu"] / "cpu.cfs_quota_us").write_text(str(limits.cpu_quota_us))


def _own_paths(text: str) -> dict[str, str]:
    """controller -> this process's cgroup path, from /proc/self/cgroup ("" is cgroup v2)."""
    paths = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _key_values(path: Path) -> dict[str, int]:
    values = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                values[key] = int(value)
    return values


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0
