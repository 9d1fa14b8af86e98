"""Packing events into blocks and back: every way a block can be kept."""

from __future__ import annotations

import pytest

from pgwatch_gui.core.journal.blocks import INLINE, ZLIB, BlockError, pack, unpack
from pgwatch_gui.core.stream.events import KIND_GAP, Event, new_event

FIELDS = ("received_at", "profile", "channel", "pid", "payload", "kind", "own", "size")


def fields(evs):
    return [tuple(getattr(e, f) for f in FIELDS) for e in evs]


def mixed() -> list[Event]:
    return [
        new_event(1, 10.0, "a", "c1", 1, '{"x": 1}'),
        Event(2, 11.0, "a", "", 0, "connection lost", kind=KIND_GAP),
        new_event(3, 12.0, "b", "c2", 2, "ünï ✓", own=True),
        new_event(4, 9.5, "a", "c1", 3, ""),
    ]


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("extra", ["", "lone \ud800", "nul \0 inside"])
def test_round_trip(compress, extra):
    evs = [*mixed(), new_event(5, 13.0, "a", "c1", 4, extra)]
    codec, meta, payloads, lo, hi, profile = pack(evs, compress)
    assert (lo, hi, profile) == (9.5, 13.0, None)
    if "\0" in extra:
        assert codec & INLINE
    elif compress:
        assert codec & ZLIB
    back = unpack(100, codec, meta, payloads)
    assert fields(back) == fields(evs)
    assert [e.seq for e in back] == [(100 << 16) + i for i in range(5)]


def test_ascii_payloads_stay_text_and_one_profile_is_one_value():
    evs = [new_event(i, 1.0, "shop", "orders", 7, f"p{i}") for i in range(10)]
    codec, meta, payloads, _lo, _hi, profile = pack(evs)
    assert codec == 0 and isinstance(payloads, str) and profile == "shop"
    assert fields(unpack(1, codec, meta, payloads)) == fields(evs)


def test_damaged_blocks_raise_block_error():
    codec, meta, payloads, *_ = pack(mixed())
    assert isinstance(payloads, bytes)  # not ASCII: UTF-8
    for bad in ((codec, b"junk", payloads), (codec, meta, payloads + b"\0extra"),
                (ZLIB, meta, b"not zlib")):
        with pytest.raises(BlockError):
            unpack(1, *bad)


def test_a_block_of_row_changes_keeps_their_kind():
    from pgwatch_gui.core.stream.events import KIND_CHANGE

    evs = [Event(i, 5.0 + i, "repl", "public.orders", 0, f'{{"i": {i}}}', kind=KIND_CHANGE)
           for i in range(5)]
    evs.insert(2, Event(9, 6.5, "repl", "", 0, "stream lost", kind=KIND_GAP))
    codec, meta, payloads, *_ = pack(evs)
    assert fields(unpack(7, codec, meta, payloads)) == fields(evs)


def test_the_servers_byte_count_survives():
    # A byte the server's encoding could not decode arrives as one U+FFFD (3 bytes in
    # UTF-8): the count is the server's, not the stored text's.
    evs = [new_event(1, 1.0, "p", "c", 1, "ok \ufffd", size=4),
           new_event(2, 2.0, "p", "c", 1, "plain", size=5),
           new_event(3, 3.0, "p", "c", 1, "unknown \ufffd")]  # -1: counted when asked
    codec, meta, payloads, *_ = pack(evs)
    back = unpack(1, codec, meta, payloads)
    assert [e.size for e in back] == [4, 5, len("unknown \ufffd".encode())]
