"""The sandbox's end of its private channel to the web app.

Frames are a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. The host
sends one job; the sandbox may ask for secrets (one request, one answer) and ends with "done".
"""

import json
import os
import struct
import threading

_HEADER = struct.Struct(">I")


class _Channel:
    """The channel's file descriptor, once the bootstrap has connected it."""

    fd: int | None = None


_CHANNEL = _Channel()
# One request at a time: its answer must not be read by another thread's request.
_asking = threading.Lock()


def connect(fd: int) -> None:
    """Remember the channel's file descriptor (called once by the bootstrap)."""
    _CHANNEL.fd = fd


def _connected_fd() -> int:
    if _CHANNEL.fd is None:
        raise RuntimeError("anvil is only available in py.space's sandbox")
    return _CHANNEL.fd


def _read_exactly(size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(_connected_fd(), size)
        if not chunk:
            raise EOFError("the web app closed the channel")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def send(message: dict) -> None:
    """Send one message to the web app."""
    data = json.dumps(message).encode("utf-8")
    frame = _HEADER.pack(len(data)) + data
    while frame:
        written = os.write(_connected_fd(), frame)
        frame = frame[written:]


def receive() -> dict:
    """Wait for the web app's next message."""
    (size,) = _HEADER.unpack(_read_exactly(_HEADER.size))
    return json.loads(_read_exactly(size).decode("utf-8"))


def ask(message: dict) -> dict:
    """Send a request and wait for its answer."""
    _connected_fd()
    with _asking:
        send(message)
        return receive()
