"""Reading the journal: time ranges, a profile, a FilterSpec, pages further back, key timelines.

SQL picks the blocks (by time, profile, sequence number); the events unpacked from them
are then narrowed exactly, and the rest of a FilterSpec (text, regex, operation, table,
field conditions) runs on them in chunks with the same compiled filter the window
uses: a row the window would show is a row `history` prints.

A reader works while a window writes (WAL: readers never block the writer and see
every committed transaction). A damaged block is skipped and counted in `skipped`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import decoded_of, qualified
from pgwatch_gui.core.journal.blocks import SEQ_SHIFT, BlockError, block_profiles, unpack
from pgwatch_gui.core.journal.store import (
    BUSY_TIMEOUT_MS,
    JournalError,
    default_path,
    open_journal,
    used_bytes,
)
from pgwatch_gui.core.stream.events import KIND_GAP, Event

BLOCKS = 50  # blocks fetched per query


@dataclass(frozen=True)
class Page:
    """Events older than a cursor, oldest first; `before_id` continues further back
    (None: the start of the journal was reached). Ids are the events' seq numbers."""

    events: list[Event]
    before_id: int | None
    scanned: int


class JournalReader:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        if not self.path.exists():
            raise JournalError(f"no journal at {self.path} yet: it starts when the window "
                               "receives its first event")
        self.conn, _ = open_journal(self.path, create=False)
        self.conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self.skipped = 0  # damaged blocks passed over

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- overview -----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        n, lo, hi, blocks = self.conn.execute(
            "SELECT coalesce(sum(n), 0), min(ts_min), max(ts_max), count(*) FROM blocks"
        ).fetchone()
        return {"events": n, "oldest": lo, "newest": hi, "blocks": blocks,
                "bytes": used_bytes(self.conn)}

    # ---- blocks -------------------------------------------------------------------------

    def _blocks(self, where: list[str], args: list[Any], *, newest_first: bool = False,
                after_id: int | None = None) -> Iterator[list[Event]]:
        """The events of each matching block, block by block, in id (= write) order."""
        cursor = after_id
        op, order = ("<", "DESC") if newest_first else (">", "ASC")
        while True:
            conds = list(where)
            cargs = list(args)
            if cursor is not None:
                conds.append(f"id {op} ?")
                cargs.append(cursor)
            sql = ("SELECT id, codec, meta, payloads FROM blocks"
                   + (" WHERE " + " AND ".join(conds) if conds else "")
                   + f" ORDER BY id {order} LIMIT {BLOCKS}")
            rows = self.conn.execute(sql, cargs).fetchall()
            if not rows:
                return
            for bid, codec, meta, payloads in rows:
                try:
                    yield unpack(bid, codec, meta, payloads)
                except BlockError:
                    self.skipped += 1
            cursor = rows[-1][0]

    @staticmethod
    def _block_where(since: float | None, until: float | None, profile: str | None
                     ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if since is not None:
            where.append("ts_max >= ?")
            args.append(since)
        if until is not None:
            where.append("ts_min < ?")
            args.append(until)
        if profile is not None:
            where.append("(profile = ? OR profile IS NULL)")
            args.append(profile)
        return where, args

    @staticmethod
    def _narrow(events: list[Event], since: float | None, until: float | None,
                profile: str | None, flt) -> list[Event]:
        if since is not None or until is not None or profile is not None:
            lo = float("-inf") if since is None else since
            hi = float("inf") if until is None else until
            events = [e for e in events if lo <= e.received_at < hi
                      and (profile is None or e.profile == profile)]
        if flt is not None and events:
            events = [events[i] for i in flt.select(events)]
        return events

    # ---- queries ------------------------------------------------------------------------

    def events(self, *, since: float | None = None, until: float | None = None,
               profile: str | None = None, spec: FilterSpec | None = None,
               limit: int | None = None) -> Iterator[Event]:
        """Matching events, oldest first; with `limit`, the newest `limit` of them."""
        if limit is not None:
            found: list[Event] = []
            before: int | None = None
            while len(found) < limit:
                page = self.page_before(before, limit - len(found), since=since, until=until,
                                        profile=profile, spec=spec)
                found[:0] = page.events
                if page.before_id is None:
                    break
                before = page.before_id
            yield from found[-limit:]
            return
        where, args = self._block_where(since, until, profile)
        flt = compile_filter(spec) if spec is not None and not spec.is_empty else None
        for block in self._blocks(where, args):
            yield from self._narrow(block, since, until, profile, flt)

    def page_before(self, before_id: int | None, n: int, *, since: float | None = None,
                    until: float | None = None, profile: str | None = None,
                    spec: FilterSpec | None = None, max_scan: int = 2_000_000) -> Page:
        """Up to `n` matching events with seq < before_id (None: from the newest)."""
        where, args = self._block_where(since, until, profile)
        if before_id is not None:
            where.append("id <= ?")
            args.append(before_id >> SEQ_SHIFT)
        flt = compile_filter(spec) if spec is not None and not spec.is_empty else None
        found: list[Event] = []
        scanned = 0
        for block in self._blocks(where, args, newest_first=True):
            scanned += len(block)
            if before_id is not None and block and block[-1].seq >= before_id:
                block = [e for e in block if e.seq < before_id]
            found[:0] = self._narrow(block, since, until, profile, flt)
            if len(found) >= n:
                found = found[-n:]
                return Page(found, found[0].seq, scanned)
            if scanned >= max_scan:
                cursor = block[0].seq if block else before_id
                return Page(found, cursor, scanned)
        return Page(found, None, scanned)

    def last_id_before(self, ts: float) -> int | None:
        """A page_before cursor just after the newest event received before `ts`."""
        rows = self.conn.execute(
            "SELECT id, codec, meta, payloads FROM blocks WHERE ts_min < ? "
            "ORDER BY id DESC LIMIT 5", (ts,)).fetchall()
        best = None
        for bid, codec, meta, payloads in rows:
            try:
                seqs = [e.seq for e in unpack(bid, codec, meta, payloads)
                        if e.received_at < ts]
            except BlockError:
                continue
            if seqs:
                best = max(best or 0, max(seqs) + 1)
        return best

    def timeline(self, table: str, key: dict[str, Any], *, profile: str | None = None,
                 limit: int = 10_000) -> list[Event]:
        """Every notification about `table` (as the table column shows it, "schema.table")
        and `key`, oldest first.

        A payload must mention the table's name and every key value (a substring test,
        cheap); those are decoded and kept when their table and key are exactly these.
        """
        bare = table.rsplit(".", 1)[-1]
        needles = [bare] + [_needle(v) for v in key.values()]
        want_key = _norm_key(key)
        where, args = self._block_where(None, None, profile)
        out: list[Event] = []
        for block in self._blocks(where, args):
            for ev in block:
                if ev.kind == KIND_GAP or (profile is not None and ev.profile != profile):
                    continue
                p = ev.payload
                if not all(x in p for x in needles):
                    continue
                d = decoded_of(ev)
                if qualified(d) == table and d.key is not None and _norm_key(d.key) == want_key:
                    out.append(ev)
            if len(out) >= limit:
                break
        return out[-limit:]

    def counts_per_second(self, since: float, mode: str = "channel",
                          profile: str | None = None) -> list[tuple[int, str, int]]:
        """(second, series, count) since `since`, for filling the rate graph when shown."""
        from pgwatch_gui.core.journal.rates import series_name

        counts: dict[tuple[int, str], int] = {}
        for ev in self.events(since=since, profile=profile):
            if ev.kind != KIND_GAP:
                k = (int(ev.received_at), series_name(ev, mode))
                counts[k] = counts.get(k, 0) + 1
        return [(s, name, n) for (s, name), n in counts.items()]


def _needle(v: Any) -> str:
    """Text a payload holding key value `v` contains ("" where it may be written otherwise:
    a Decimal in exponent form, a float, a nested value)."""
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)[1:-1]
    if v is None or isinstance(v, bool):
        return json.dumps(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Decimal):  # decoded exactly: the digits as sent
        text = str(v)
        return "" if "E" in text else text
    return ""


def _norm_key(key: dict[str, Any]) -> str:
    return json.dumps({str(k): key[k] for k in sorted(key, key=str)}, sort_keys=True,
                      default=str)


def open_reader(path: Path | None = None) -> JournalReader:
    try:
        return JournalReader(path)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot read the journal: {exc}") from None


# ---- one-shot helpers for worker threads (each opens and closes its own reader) ----------


def read_timeline(path: Path | None, table: str, key: dict[str, Any],
                  profile: str | None = None) -> list[Event]:
    with open_reader(path) as r:
        return r.timeline(table, key, profile=profile)


def read_page(path: Path | None, before_ts: float | None, before_id: int | None, n: int,
              spec: FilterSpec | None) -> Page:
    """A page of older events: before `before_id`, or (first page) before time `before_ts`."""
    with open_reader(path) as r:
        if before_id is None and before_ts is not None:
            before_id = r.last_id_before(before_ts)
            if before_id is None:
                return Page([], None, 0)
        return r.page_before(before_id, n, spec=spec)


def read_recent(path: Path | None, since: float | None, limit: int = 500_000) -> list[Event]:
    """The newest `limit` events since `since` (statistics over the journal)."""
    with open_reader(path) as r:
        return list(r.events(since=since, limit=limit))


def read_profiles(path: Path | None) -> list[str]:
    """The connections the journal holds events of, sorted (a mixed block's from its meta,
    payloads untouched); [] when there is no journal yet."""
    if not Path(path if path is not None else default_path()).exists():
        return []
    with open_reader(path) as r:
        names = {row[0] for row in r.conn.execute(
            "SELECT DISTINCT profile FROM blocks WHERE profile IS NOT NULL")}
        for (meta,) in r.conn.execute("SELECT meta FROM blocks WHERE profile IS NULL"):
            with contextlib.suppress(BlockError):
                names.update(block_profiles(meta))
        return sorted(n for n in names if n)


def read_counts(path: Path | None, since: float, mode: str) -> list[tuple[int, str, int]]:
    with open_reader(path) as r:
        return r.counts_per_second(since, mode)
