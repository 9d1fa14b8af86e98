"""The row readers written out per relation (tuples._readers) and the Insert envelope put
together from its parts give what the column-by-column reader and envelope.Insert give."""

from __future__ import annotations

import struct

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgwatch_gui.core.replication import tuples
from pgwatch_gui.core.replication.envelope import Insert, encode
from pgwatch_gui.core.replication.pgoutput import Decoder, envelope_of
from pgwatch_gui.core.replication.tuples import (
    MAX_WRITTEN_OUT,
    Relation,
    insert_values,
    read_tuple,
    read_tuple_bytes,
)
from tests.core.replication.test_pgoutput import begin, relation, tuple_data

TYPES = {"text": 25, "int": 20, "json": 3802, "bool": 16, "numeric": 1700}

texts = st.text(max_size=12).map(lambda s: s.replace("\0", "").encode("utf-8", "replace")) \
    | st.binary(max_size=300).map(lambda b: b.replace(b"\0", b""))
values = st.none() | texts | st.just("u") | st.sampled_from([b"t", b"f", b"12", b'{"a":1}'])


def rel_of(kinds: list[str], oid: int = 16564) -> Relation:
    cols = tuple(f"c{i}" for i in range(len(kinds)))
    return Relation(oid, "s", "t", "d", cols, tuple(TYPES[k] for k in kinds), (0,), (0,),
                    (cols[0],))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(TYPES)), values), min_size=1, max_size=8),
       st.sampled_from([7, 16564, 2 ** 31 + 5]))
def test_written_out_readers_read_what_the_loop_reads(cols, oid):
    rel = rel_of([k for k, _ in cols], oid)
    data = tuple_data(*[v for _, v in cols])
    msg = b"I" + struct.pack("!I", oid) + b"N" + data
    expected = read_tuple_bytes(msg, 8, rel)
    assert read_tuple(msg, 6, rel) == expected
    assert insert_values(msg, rel) == expected[0]


def test_a_table_too_wide_to_write_out_is_read_column_by_column():
    rel = rel_of(["text"] * (MAX_WRITTEN_OUT + 1))
    assert rel.read_ascii is None and rel.read_bytes is None
    vals = [str(i).encode() for i in range(MAX_WRITTEN_OUT + 1)]
    msg = b"I" + struct.pack("!I", 16564) + b"N" + tuple_data(*vals)
    assert insert_values(msg, rel) == [v.decode() for v in vals]


def reference(d: Decoder, rel: Relation, vals: list, key: bytes) -> bytes:
    row = rel.row.struct(*vals) if rel.row.struct is not None else rel.row.make(vals)
    return encode(Insert(1, "INSERT", rel.schema, rel.name, _raw(key), row,
                         rel.generated_missing, d.xid, d.commit_ts))


def _raw(b: bytes) -> msgspec.Raw:
    return msgspec.Raw(b)


def test_insert_envelope_is_envelope_insert_byte_for_byte():
    d = Decoder(generated_hint=lambda s, t: ("total_gen",) if t == 'we"ird' else ())
    d.feed(relation(9, "sch\u00e9ma", 'we"ird', [("id", 20, True), ('na"me', 25, False),
                                                 ("ok", 16, False), ("doc", 114, False)]))
    d.feed(relation(10, "public", "plain", [("k", 25, True), ("v", 25, False)]))
    for xid in (None, 77):
        if xid is not None:
            d.feed(begin(xid))
        for oid, vals in ((9, [b"12345678901234567890", "é😀\n\"".encode(), b"t", b'{"a": 1e400}']),
                          (9, [b"1", None, b"f", None]),
                          (10, [b"key \\ \x01", b"\xff not utf-8"])):
            (env, op, schema, table, key) = d.feed(
                b"I" + struct.pack("!I", oid) + b"N" + tuple_data(*vals))[0]
            rel = d.relations[oid]
            got = insert_values(b"I" + struct.pack("!I", oid) + b"N" + tuple_data(*vals), rel)
            assert env == reference(d, rel, got, key), (xid, oid, vals)
            assert (op, schema, table) == ("INSERT", rel.schema, rel.name)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(TYPES)), values), min_size=1, max_size=8),
       st.data(), st.sampled_from([7, 16564, 2 ** 31 + 5]), st.sampled_from([None, 854]))
def test_an_insert_in_one_generated_function_is_the_general_ways_change(cols, data, oid, xid):
    """Relation.insert_change (a key of one integer or json column) gives what the
    general way gives, or None and the general way runs (a value not ASCII, an
    unchanged TOAST value, a null key)."""
    at = data.draw(st.integers(0, len(cols) - 1))
    kinds = [k for k, _ in cols]
    kinds[at] = data.draw(st.sampled_from(["int", "json"]))
    key_value = data.draw(st.sampled_from([b"42", b"-7", b'{"a":1}', None]))
    vals = [v for _, v in cols]
    vals[at] = key_value
    d = Decoder()
    if xid is not None:
        d.feed(begin(xid))
    d.feed(relation(oid, "s", "t", [(f"c{i}", TYPES[k], i == at) for i, k in enumerate(kinds)]))
    rel = d.relations[oid]
    assert rel.insert_change is not None
    msg = b"I" + struct.pack("!I", oid) + b"N" + tuple_data(*vals)
    try:
        expected = d.insert_general(msg)
    except Exception as exc:  # the same error either way
        with pytest.raises(type(exc)):
            d.insert(msg)
        return
    assert d.insert(msg) == expected


def test_a_new_relation_message_replaces_the_generated_insert():
    d = Decoder()
    d.feed(relation(9, "s", "t", [("id", 20, True), ("v", 25, False)]))
    first = d.insert(b"I" + struct.pack("!I", 9) + b"N" + tuple_data(b"1", b"x"))
    assert first[0].startswith(b'{"v":1,"op":"INSERT","schema":"s","table":"t","key":{"id":1}')
    d.feed(relation(9, "s", "t2", [("id", 25, True), ("w", 20, False), ("z", 16, False)]))
    assert d.relations[9].insert_change is None  # a text key: the general way
    got = d.insert(b"I" + struct.pack("!I", 9) + b"N" + tuple_data(b"k", b"5", b"t"))
    assert got[0].startswith(b'{"v":1,"op":"INSERT","schema":"s","table":"t2","key":{"id":"k"}')
    assert b'"row":{"id":"k","w":5,"z":true}' in got[0]


@pytest.mark.parametrize("vals", [
    [b"1", b"", b"t", b"tt"],  # empty values, values that are the header's letter
    [b"2", b"x" * 0x74, b"t" * 0x74, b"at"],  # a length whose last byte is b"t"
    [b"3", b"t" * 0x1FF, b"\x01t\x01", b"t\x7f"],  # control bytes beside a "t"
    [b"4", None, b"t", b"x"],  # a null among them: no split, the column reader
    [None, b"t", b"t", b"t"],  # a null key: the general way
    [b"5", b"y" * 0x7370, b"t", b"z"],  # just short enough to split (SPLIT_BELOW)
    [b"6", b"y" * 0x7400, b"t", b"z"],  # a length of b"\0\0t\0": too long to split
    [b"7", b"y" * 0x7474, b"t" * 0x74, b"z"],
    [b"8", "h\u00e9t".encode(), b"t", b"z"],  # not ASCII: the general way
    [b"9", b"x" * 200, b"y" * 0x1FF, b"t"],  # lengths that are not ASCII, values that are
    [b"10", b"y" * 0x7400, None, b"t"],  # an extra b"t\0" and a missing one
])
def test_an_insert_split_at_its_column_headers_reads_what_the_columns_hold(vals):
    """The generated insert splits a short row of text columns at b"t\\0" (SPLIT_BELOW
    says why that is exact): the same Change as the general way, at the edges of it."""
    d = Decoder()
    d.feed(relation(9, "s", "t", [("id", 20, True), ("a", 25, False), ("b", 25, False),
                                  ("c", 16, False)]))
    msg = b"I" + struct.pack("!I", 9) + b"N" + tuple_data(*vals)
    fast = d.relations[9].insert_change(msg, d.txn_tail)
    general = d.insert_general(msg)
    assert fast is None or fast == general
    assert d.insert(msg) == general
    if vals[0] is not None and None not in vals and len(msg) < tuples.SPLIT_BELOW:
        assert (fast is not None) == b"".join(vals).isascii()  # the split took it
    env = envelope_of(general)
    assert [env["row"][c] for c in ("a", "b")] == [None if v is None else v.decode()
                                                   for v in vals[1:3]]
