"""A run's memory, processes and CPU are capped as a whole by a cgroup of its own.

Per-process rlimits alone let a run hold gigabytes in memory files (memfd) or spread its memory
over several processes; the cgroup counts all of it. Where the machine has no writable cgroup
hierarchy these tests skip, naming what is missing.
"""

import pytest

from pyspace.sandbox import cgroups, runner_for
from tests.sandbox.helpers import SMALL_LIMITS, confinement, run_code

MEMORY_MB = 128


@pytest.fixture(autouse=True)
def small_limits(app_config):
    # Scratch of 64 MB lets one memory file grow to 64 MB (RLIMIT_FSIZE is the scratch size).
    app_config.update(SMALL_LIMITS, RUN_MEMORY_MB=MEMORY_MB, RUN_SCRATCH_MB=64)


@pytest.fixture
def run_cgroups(app):
    host = confinement(app)
    if host.cgroups is None:
        pytest.skip(
            "no writable cgroup hierarchy here (cgroup v2 with memory+pids delegated, or "
            "cgroup v1 memory and pids controllers)"
        )
    return host.cgroups


HOLD_4_GIB_IN_MEMORY_FILES = """
import os
fds, total, chunk = [], 0, 32 * 1024 * 1024
while total < 4 * 1024 ** 3:
    fd = os.memfd_create('hoard')
    os.posix_fallocate(fd, 0, chunk)
    fds.append(fd)
    total += chunk
print('held', total >> 20, 'MB')
"""

HOLD_4_GIB_IN_LISTS_OVER_PROCESSES = """
import os
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        # Up to 1 GiB each; each process's own address-space limit stops it below the run's
        # ceiling, so only the run's cgroup sees that together they hold several times it.
        hoard = []
        try:
            for _ in range(1024):
                hoard.append(bytearray(1024 * 1024))
        except MemoryError:
            pass
        import time
        time.sleep(3)
        os._exit(0)
    children.append(pid)
statuses = [os.waitpid(pid, 0)[1] for pid in children]
print('held by', len(children), 'processes, statuses', statuses)
"""


@pytest.mark.parametrize(
    "code",
    [HOLD_4_GIB_IN_MEMORY_FILES, HOLD_4_GIB_IN_LISTS_OVER_PROCESSES],
    ids=["memfd", "lists-in-4-processes"],
)
def test_holding_4_gib_stops_the_run_at_its_memory_ceiling_and_the_next_run_works(
    app, run_cgroups, code, client
):
    result = run_code(app, code)
    assert result.error["type"] == "MemoryError", result.error
    assert f"more than its {MEMORY_MB} MB of memory" in result.error["message"]
    assert "held" not in result.stdout
    assert client.get("/").status_code == 200
    after = run_code(app, "print('fine')\n")
    assert after.ok and after.stdout == "fine\n"


def test_one_big_list_fails_with_memory_error(app, run_cgroups):
    result = run_code(app, "hoard = [0] * (600 * 1024 * 1024)\n")
    assert result.error["type"] == "MemoryError"


def test_every_sandbox_process_is_in_a_cgroup_of_its_own_removed_after_the_run(app, run_cgroups):
    runner = runner_for(app)
    sandbox = runner.start_sandbox()
    assert sandbox.wait_ready(10)
    cgroup = sandbox.cgroup
    directories = list(cgroup.directories.values())
    try:
        # bubblewrap, its init in the sandbox and the sandbox's Python: all inside, from birth.
        assert sandbox.process.pid in cgroup.pids()
        assert len(cgroup.pids()) >= 3
        max_processes = SMALL_LIMITS["RUN_MAX_PROCESSES"]
        if cgroup.version == 1:
            memory = cgroup.directories["memory"]
            assert int((memory / "memory.limit_in_bytes").read_text()) == MEMORY_MB * 1024**2
            pids = cgroup.directories["pids"] / "pids.max"
            assert int(pids.read_text()) == max_processes + 2
            if "cpu" in cgroup.directories:
                quota = cgroup.directories["cpu"] / "cpu.cfs_quota_us"
                assert int(quota.read_text()) == 100_000  # one CPU (RUN_CPU_CORES=1)
        else:
            unified = cgroup.directories["unified"]
            assert int((unified / "memory.max").read_text()) == MEMORY_MB * 1024**2
            assert int((unified / "pids.max").read_text()) == max_processes + 2
    finally:
        sandbox.destroy()
    assert not any(directory.exists() for directory in directories)


def test_processes_of_a_run_are_capped_together(app, run_cgroups):
    code = """
import threading, time
started = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        started += 1
except RuntimeError as error:
    print('capped after', started)
"""
    result = run_code(app, code)
    assert result.stdout.startswith("capped after"), (result.stdout, result.error)
    assert int(result.stdout.split()[2]) < SMALL_LIMITS["RUN_MAX_PROCESSES"]


def test_cgroup_v2_layout_gets_memory_pids_and_cpu_limits_in_a_delegated_parent(tmp_path):
    # This machine mounts v1 controllers only, so the v2 branch is exercised on a directory
    # tree shaped like cgroupfs (the kernel would create the interface files itself).
    service = tmp_path / "system.slice" / "pyspace.service"
    service.mkdir(parents=True)
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (service / "cgroup.controllers").write_text("cpu memory pids\n")
    (service / "cgroup.subtree_control").write_text("")
    (service / cgroups.PARENT_NAME).mkdir()
    (service / cgroups.PARENT_NAME / "cgroup.subtree_control").write_text("")
    manager = cgroups.detect(tmp_path, own_cgroups="0::/system.slice/pyspace.service\n")
    assert manager is not None and manager.version == 2
    assert (service / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    parent = service / cgroups.PARENT_NAME
    assert (parent / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    cgroup = manager.create(cgroups.CgroupLimits(memory_mb=64, max_processes=5, cpu_cores=0.5))
    [directory] = cgroup.directories.values()
    assert directory.parent == parent
    assert (directory / "memory.max").read_text() == str(64 * 1024 * 1024)
    assert (directory / "pids.max").read_text() == "7"
    (directory / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert cgroup.memory_usage() == cgroups.MemoryUsage(oom_kills=1, hit_limit=True)


def test_no_writable_cgroup_hierarchy_means_no_manager(tmp_path):
    assert cgroups.detect(tmp_path, own_cgroups="0::/\n4:memory:/\n") is None
