"""Widget code runs under a seccomp filter with no user namespaces of its own.

Each attack here fails inside a run with EPERM, not a crash. Ordinary code (threads,
subprocesses, sqlite3, multiprocessing, requests) still works.
"""

import pytest

from tests.sandbox.helpers import ROOMY_LIMITS, confinement, run_code

# Calls a widget makes through ctypes; each prints "EPERM" when refused, "ALLOWED" otherwise.
PRELUDE = """
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)
def report(result):
    print('ALLOWED' if result >= 0 else errno.errorcode[ctypes.get_errno()])
def open_socket(*args):
    try:
        socket.socket(*args).close()
        print('ALLOWED')
    except OSError as error:
        print(errno.errorcode[error.errno])
"""
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
ATTACKS = {
    "unshare-user-mount-net": (
        f"report(libc.unshare({CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET}))"
    ),
    "unshare-user": f"report(libc.unshare({CLONE_NEWUSER}))",
    # The way around the scratch size: a tmpfs of any size in a namespace of one's own.
    "tmpfs-in-nested-userns": (
        f"pid = os.fork()\n"
        f"if pid == 0:\n"
        f"    if libc.unshare({CLONE_NEWUSER | CLONE_NEWNS}) != 0:\n"
        f"        os._exit(ctypes.get_errno())\n"
        f"    os._exit(0 if libc.mount(b'none', b'/tmp', b'tmpfs', 0, b'size=100g') == 0 else 99)\n"
        f"code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n"
        f"print('ALLOWED' if code == 0 else errno.errorcode.get(code, code))"
    ),
    "setns": "report(libc.setns(os.open('/proc/self/ns/net', os.O_RDONLY), 0))",
    "mount": "report(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))",
    "keyctl": "report(libc.syscall(250, 0, 0, 0, 0, 0))",
    "add_key": "report(libc.syscall(248, b'user', b'k', b'v', 1, -2))",
    "bpf": "report(libc.syscall(321, 0, 0, 0))",
    "perf_event_open": "report(libc.syscall(298, 0, 0, -1, -1, 0))",
    "ptrace": "report(libc.syscall(101, 16, 1, 0, 0))",
    "userfaultfd": "report(libc.syscall(323, 0))",
    "io_uring_setup": "report(libc.syscall(425, 1, ctypes.create_string_buffer(120)))",
    "netlink-netfilter": "open_socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)",
    "raw-socket": "open_socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)",
    "raw-socket-nonblocking": (
        "open_socket(socket.AF_INET6, socket.SOCK_RAW | socket.SOCK_NONBLOCK, 58)"
    ),
    "packet-socket": "open_socket(socket.AF_PACKET, socket.SOCK_RAW, 0)",
}


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(ROOMY_LIMITS)


@pytest.fixture
def filtered(app):
    confinement(app)
    with open("/proc/self/status") as status:
        if "Seccomp:" not in status.read():
            pytest.skip("this kernel has no seccomp (CONFIG_SECCOMP)")


def test_run_is_under_a_seccomp_filter(app, filtered):
    result = run_code(app, "print(open('/proc/self/status').read())\n")
    fields = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    assert fields["Seccomp"].strip() == "2"  # 2: a filter
    assert fields["NoNewPrivs"].strip() == "1"


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_kernel_surface_widget_code_never_needs_fails_with_eperm(app, filtered, attack):
    result = run_code(app, PRELUDE + attack + "\n")
    assert result.ok, result.error
    assert result.stdout == "EPERM\n"


def test_route_netlink_still_works_for_name_resolution(app, filtered):
    result = run_code(app, PRELUDE + "open_socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)\n")
    assert result.stdout == "ALLOWED\n"


ORDINARY_CODE = {
    "threads": (
        "import threading\nseen = []\n"
        "workers = [threading.Thread(target=seen.append, args=(i,)) for i in range(4)]\n"
        "[w.start() for w in workers]; [w.join() for w in workers]\nprint(sorted(seen))",
        "[0, 1, 2, 3]",
    ),
    "subprocess-of-python": (
        "import subprocess, sys\n"
        "print(subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True,"
        " text=True, check=True).stdout.strip())",
        "42",
    ),
    "sqlite3-in-tmp": (
        "import sqlite3\ndb = sqlite3.connect('/tmp/notes.db')\n"
        "db.execute('create table notes (text)')\n"
        "db.execute(\"insert into notes values ('hi')\")\ndb.commit()\n"
        "print(db.execute('select text from notes').fetchone()[0])",
        "hi",
    ),
    "multiprocessing-within-the-process-limit": (
        "import multiprocessing\n"
        "with multiprocessing.Pool(2) as pool:\n    print(pool.map(abs, [-1, -2, -3]))",
        "[1, 2, 3]",
    ),
    "import-requests": ("import requests\nprint(requests.Session().__class__.__name__)", "Session"),
}


@pytest.mark.parametrize(("code", "expected"), ORDINARY_CODE.values(), ids=ORDINARY_CODE.keys())
def test_ordinary_code_still_works_under_the_filter(app, filtered, code, expected):
    result = run_code(app, code + "\n")
    assert result.ok, result.error
    assert result.stdout == expected + "\n"
