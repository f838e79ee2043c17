"""The web app's end of a sandbox's private channel: length-prefixed JSON frames.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON; the sandbox side
is `sandbox_runtime/anvil/_channel.py`. Messages:

- host → sandbox: `{"op": "run", "code", "limits", "call": null | {"name", "args", "kwargs"}}`
  (exactly one per sandbox; a widget of several modules sends `"modules": [{"name", "code"}]`
  instead of `"code"`), then one answer per request:
  `{"ok": true, "value": ...}` or `{"ok": false, "message": ...}`.
- sandbox → host: `{"op": "ready"}` once the runtime is imported, any number of requests
  answered by the channel services (`services.py`), such as
  `{"op": "get_secret", "name": ...}`, and finally
  `{"op": "done", "error": null | {"type", "message", "traceback"}, "result": ...}`.
"""

import json
import struct

HEADER = struct.Struct(">I")


class ChannelError(Exception):
    """The sandbox sent something that is not a valid frame."""


def _not_json(name: str):
    # NaN and Infinity are Python's extensions to JSON: the site's answers can't carry them.
    raise ValueError(f"{name} is not JSON")


def encode_frame(message: dict) -> bytes:
    """`message` as one frame."""
    data = json.dumps(message).encode("utf-8")
    return HEADER.pack(len(data)) + data


class FrameReader:
    """Collects bytes as they arrive and hands back whole messages."""

    def __init__(self, max_frame_bytes: int):
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[dict]:
        """Add `data`; return the messages it completed (oldest first)."""
        self._buffer += data
        messages = []
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            # A huge length is refused before it is buffered: the sandbox must not make us
            # hold more memory than its own output cap.
            if size > self.max_frame_bytes:
                raise ChannelError(f"a message of {size} bytes is larger than allowed")
            if len(self._buffer) < HEADER.size + size:
                break
            payload = bytes(self._buffer[HEADER.size : HEADER.size + size])
            del self._buffer[: HEADER.size + size]
            try:
                message = json.loads(payload.decode("utf-8"), parse_constant=_not_json)
            except ValueError:
                raise ChannelError("a message was not valid JSON") from None
            except RecursionError:
                # Code may write any frame to its own channel, nested deeper than the parser
                # can follow: that ends the run, never the request serving it.
                raise ChannelError("a message was nested too deeply") from None
            if not isinstance(message, dict):
                raise ChannelError("a message was not a JSON object")
            messages.append(message)
        return messages
