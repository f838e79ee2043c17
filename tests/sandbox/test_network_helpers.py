"""A sandbox's network helper (pasta) lives no longer than its sandbox: a process holding warm
sandboxes that dies by SIGKILL leaves no pasta or bubblewrap behind, and a starting site kills
the helpers a dead process left (and only those)."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pyspace.sandbox import network
from pyspace.sandbox.network import OWNER_LOCK, network_problem, sweep_leftover_helpers
from tests.sandbox.helpers import SMALL_LIMITS

ROOT = Path(__file__).resolve().parents[2]

needs_own_network = pytest.mark.skipif(
    network_problem() is not None, reason=f"no network of a run's own here: {network_problem()}"
)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _parent_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid: str) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().decode(errors="replace").split("\0")
    except OSError:
        return []


def _processes_of(owner: int) -> dict[int, str]:
    """Every descendant of `owner`, and every pasta that names `owner` in its PID file (a
    helper that went to the background is no descendant): pid -> program name."""
    pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    parents = {int(pid): _parent_of(pid) for pid in pids}
    found: dict[int, str] = {}
    for pid in pids:
        argv = _cmdline(pid)
        name = os.path.basename(argv[0]) if argv else ""
        if name == "pasta" and any(arg.endswith(f"-{owner}.pid") for arg in argv):
            found[int(pid)] = name
            continue
        ancestor = parents.get(int(pid))
        while ancestor not in (None, 0, 1):
            if ancestor == owner:
                found[int(pid)] = name
                break
            ancestor = parents.get(ancestor)
    return found


@needs_own_network
def test_a_pool_owner_killed_by_sigkill_leaves_no_pasta_or_bubblewrap(app_config, tmp_path):
    config = {**app_config, **SMALL_LIMITS, "RUN_POOL_SIZE": 2, "RUN_NETWORK": True}
    config_file = tmp_path / "pool-config.json"
    config_file.write_text(json.dumps(config))
    owner = subprocess.Popen(
        [sys.executable, "-m", "tests.sandbox.pool_process", str(config_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYSPACE_")},
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "full"
        processes = _processes_of(owner.pid)
        names = sorted(processes.values())
        assert names.count("pasta") == 2 and names.count("bwrap") >= 2, names
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(map(_alive, processes)):
            time.sleep(0.05)
        survivors = {pid: name for pid, name in processes.items() if _alive(pid)}
        assert survivors == {}, survivors
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def _fake_helper(folder: Path, owner_pid: int) -> subprocess.Popen:
    """A process that looks like one of our pasta helpers of `folder` (argv[0] is "pasta")."""
    pid_file = folder / f"pasta-1-{owner_pid}.pid"
    return subprocess.Popen(
        ["pasta", "-c", "import time; time.sleep(60)", "--pid", str(pid_file)],
        executable=sys.executable,
    )


def _gone(process: subprocess.Popen, timeout: float = 5.0) -> bool:
    try:
        process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def test_a_sweep_while_another_process_makes_its_folder_leaves_the_folder(tmp_path, monkeypatch):
    # A web server and its queue consumer start together, each sweeping leftovers: a sweep that
    # lands while the other is still taking its lock must not judge the folder abandoned.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real_flock = fcntl.flock
    swept = []

    def flock_after_a_sweep(fd, operation):
        if operation == fcntl.LOCK_EX and not swept:
            swept.append(sweep_leftover_helpers(str(tmp_path)))
        return real_flock(fd, operation)

    monkeypatch.setattr(network.fcntl, "flock", flock_after_a_sweep)
    folder = Path(network._runtime_dir.__wrapped__())
    assert swept == [0]
    assert folder.is_dir() and (folder / OWNER_LOCK).exists()
    monkeypatch.setattr(network.fcntl, "flock", real_flock)
    sweep_leftover_helpers(str(tmp_path))
    assert folder.is_dir(), "its owner lives and holds the lock"


def test_the_start_up_sweep_kills_helpers_of_dead_owners_and_only_those(tmp_path):
    base = tempfile.mkdtemp(dir=tmp_path)
    dead, living, old_dead = (Path(base) / f"pyspace-net-{n}" for n in ("dead", "live", "old"))
    for folder in (dead, living, old_dead):
        folder.mkdir()
    (dead / OWNER_LOCK).touch()  # its owner died: nobody holds the lock
    (living / OWNER_LOCK).touch()
    held = os.open(living / OWNER_LOCK, os.O_WRONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    # A folder of a release without locks: judged by the owner pid in the PID file's name.
    gone_pid = subprocess.Popen(["true"])
    gone_pid.wait()
    helpers = {
        "dead": _fake_helper(dead, os.getpid()),
        "living": _fake_helper(living, os.getpid()),
        "old dead": _fake_helper(old_dead, gone_pid.pid),
        "old living": _fake_helper(old_dead, os.getpid()),
    }
    try:
        time.sleep(0.2)  # the fakes have exec'd: their command lines are in /proc
        assert sweep_leftover_helpers(base) == 2
        assert _gone(helpers["dead"]) and _gone(helpers["old dead"])
        assert helpers["living"].poll() is None and helpers["old living"].poll() is None
        assert not dead.exists() and living.exists()
    finally:
        os.close(held)
        for helper in helpers.values():
            if helper.poll() is None:
                helper.kill()
                helper.wait()
