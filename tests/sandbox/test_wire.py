"""The channel's framing: whole messages out of any split of bytes, and nothing oversized."""

import pytest

from pyspace.sandbox.wire import HEADER, ChannelError, FrameReader, encode_frame


def test_messages_split_anywhere_come_out_whole_and_in_order():
    data = encode_frame({"op": "get_secret", "name": "a"}) + encode_frame(
        {"op": "done", "error": None}
    )
    reader = FrameReader(1024)
    received = []
    for byte in range(len(data)):
        received += reader.feed(data[byte : byte + 1])
    assert received == [{"op": "get_secret", "name": "a"}, {"op": "done", "error": None}]


def test_an_oversized_frame_is_refused_before_it_is_buffered():
    with pytest.raises(ChannelError, match="larger than allowed"):
        FrameReader(1024).feed(HEADER.pack(10**9))


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]"])
def test_a_frame_that_is_not_a_json_object_is_refused(payload):
    with pytest.raises(ChannelError):
        FrameReader(1024).feed(HEADER.pack(len(payload)) + payload)
