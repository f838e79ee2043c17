"""Writes the sandbox's seccomp filter, as BPF, to stdout.

Run by Debian's Python (`/usr/bin/python3 -I seccomp_filter.py`), which has libseccomp's own
Python bindings (Debian package `python3-seccomp`); imports nothing of the web app.
`pyspace/sandbox/seccomp.py` runs it once per web process and hands the bytes to bubblewrap's
`--seccomp`. Everything is allowed except what widget code never needs and what kernel exploits
are usually made of; a denied call fails with EPERM. `clone3` fails with ENOSYS instead: its
flags sit in memory a filter can't read, and ENOSYS makes the C library fall back to `clone`,
whose flags the filter checks.
"""

import contextlib
import errno
import socket
import sys

import seccomp

DENIED = (
    # New namespaces and joining others.
    "unshare",
    "setns",
    # Mounting and changing the root.
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    # The kernel's keyring.
    "keyctl",
    "add_key",
    "request_key",
    # eBPF, performance counters, tracing other processes.
    "bpf",
    "perf_event_open",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "userfaultfd",
    # Kernels and modules.
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    # io_uring (a large, often-patched surface).
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # Odd old interfaces nobody's Python code calls.
    "name_to_handle_at",
    "open_by_handle_at",
    "lookup_dcookie",
    "quotactl",
    "syslog",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "vhangup",
    "fanotify_init",
    "personality",
)
NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
NETLINK_ROUTE = 0
SOCKET_TYPE_MASK = 0xF  # the type without SOCK_NONBLOCK / SOCK_CLOEXEC


def build() -> seccomp.SyscallFilter:
    """The filter: allow by default, EPERM for the calls and arguments above."""
    deny = seccomp.ERRNO(errno.EPERM)
    flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        # A call this architecture doesn't have is skipped.
        with contextlib.suppress(RuntimeError, ValueError):
            flt.add_rule(deny, name)
    for flag in NAMESPACE_FLAGS:
        flt.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    # Sockets: netlink only for routes (what getaddrinfo and ifaddrs use), no raw or
    # packet sockets at all.
    flt.add_rule(
        deny,
        "socket",
        seccomp.Arg(0, seccomp.EQ, socket.AF_NETLINK),
        seccomp.Arg(2, seccomp.NE, NETLINK_ROUTE),
    )
    flt.add_rule(deny, "socket", seccomp.Arg(0, seccomp.EQ, socket.AF_PACKET))
    for family in (socket.AF_INET, socket.AF_INET6):
        flt.add_rule(
            deny,
            "socket",
            seccomp.Arg(0, seccomp.EQ, family),
            seccomp.Arg(1, seccomp.MASKED_EQ, SOCKET_TYPE_MASK, socket.SOCK_RAW),
        )
    return flt


if __name__ == "__main__":
    build().export_bpf(sys.stdout)
