"""From inside a run, /proc tells nothing about the host it needn't know: not the host's load,
uptime, kernel version or boot command line, and no process shows a host path (the sandbox's
PID 1 is a copy of bubblewrap: it reads its options, the host folders it mounts among them, from
a file descriptor, so its command line names none of them)."""

import json
import os
import tempfile

import pytest

from pyspace.sandbox import runner_for
from pyspace.sandbox.bwrap import HIDDEN_PROC_FILES
from pyspace.sandbox.settings import PROJECT_DIR
from tests.sandbox.helpers import SMALL_LIMITS, confinement, run_code

READ_PROC = """
import json, os
files = {}
for name in %r:
    with open(name) as file:
        files[name] = file.read()
cmdlines = {}
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as file:
            cmdlines[pid] = file.read().decode(errors='replace').replace('\\0', ' ')
    except OSError:
        pass
print(json.dumps({'files': files, 'cmdlines': cmdlines}))
"""


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(SMALL_LIMITS, RUN_NETWORK=True)


def _seen_inside(app) -> dict:
    result = run_code(app, READ_PROC % (sorted(HIDDEN_PROC_FILES),))
    assert result.ok, (result.error, result.stderr)
    return json.loads(result.stdout)


def test_host_load_uptime_and_kernel_are_not_visible_in_proc(app):
    confinement(app)
    seen = _seen_inside(app)["files"]
    with open("/proc/version") as host_version:
        assert seen["/proc/version"] != host_version.read()
    assert os.uname().release not in json.dumps(seen)
    assert seen["/proc/loadavg"] == "0.00 0.00 0.00 1/1 1\n"
    assert seen["/proc/uptime"] == "0.00 0.00\n"
    # The boot command line and the kernel's release and version strings too.
    assert seen == HIDDEN_PROC_FILES


def test_no_process_in_the_sandbox_shows_a_host_path(app):
    confinement(app)
    cmdlines = _seen_inside(app)["cmdlines"]
    assert "1" in cmdlines
    host = runner_for(app).host
    assert host is not None
    host_paths = {
        str(PROJECT_DIR),
        host.runtime_dir,
        host.packages_dir,
        os.path.join(tempfile.gettempdir(), "pyspace-"),
    }
    for pid, cmdline in cmdlines.items():
        for path in host_paths:
            assert path not in cmdline, (pid, cmdline)
