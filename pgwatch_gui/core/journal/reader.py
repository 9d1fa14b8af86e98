"""Reading the journal: time ranges, a profile, a FilterSpec, pages further back, key timelines.

SQL narrows by what the journal has columns for (time, profile, channel, own); the rest
of a FilterSpec (text, regex, operation, table, field conditions) runs on Events rebuilt
from the rows, in chunks, with the same compiled filter the window uses: a row the
window would show is a row `history` prints.

A reader works while a window writes (WAL: readers never block the writer and see
every committed transaction).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgwatch_gui.core.events import KIND_NOTIFY, Event
from pgwatch_gui.core.filtering import FilterSpec, compile_filter, decoded_of, qualified
from pgwatch_gui.core.journal.store import (
    BUSY_TIMEOUT_MS,
    COLUMNS,
    JournalError,
    default_path,
    open_journal,
    row_to_event,
    used_bytes,
)

CHUNK = 5_000


@dataclass(frozen=True)
class Page:
    """Events older than a cursor, oldest first; `before_id` continues further back
    (None: the start of the journal was reached)."""

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

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- overview -----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        n, lo, hi = self.conn.execute("SELECT count(*), min(ts), max(ts) FROM events").fetchone()
        return {"events": n, "oldest": lo, "newest": hi, "bytes": used_bytes(self.conn)}

    def profiles(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT profile FROM events")]

    # ---- queries ------------------------------------------------------------------------

    @staticmethod
    def _where(since: float | None, until: float | None, profile: str | None,
               spec: FilterSpec | None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if since is not None:
            where.append("ts >= ?")
            args.append(since)
        if until is not None:
            where.append("ts < ?")
            args.append(until)
        if profile is not None:
            where.append("profile = ?")
            args.append(profile)
        if spec is not None and spec.channels:
            marks = ",".join("?" * len(spec.channels))
            where.append(f"(channel IN ({marks}) OR kind != 'notify')")
            args.extend(sorted(spec.channels))
        if spec is not None and spec.hide_own:
            where.append("own = 0")
        return where, args

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
            yield from found[-limit:] if limit else []
            return
        where, args = self._where(since, until, profile, spec)
        flt = compile_filter(spec) if spec is not None and not spec.is_empty else None
        last = 0
        while True:
            sql = (f"SELECT {COLUMNS} FROM events WHERE id > ?"
                   + "".join(f" AND {w}" for w in where) + f" ORDER BY id LIMIT {CHUNK}")
            rows = self.conn.execute(sql, [last, *args]).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            chunk = [row_to_event(r) for r in rows]
            if flt is not None:
                chunk = [chunk[i] for i in flt.select(chunk)]
            yield from chunk

    def page_before(self, before_id: int | None, n: int, *, since: float | None = None,
                    until: float | None = None, profile: str | None = None,
                    spec: FilterSpec | None = None, max_scan: int = 2_000_000) -> Page:
        """Up to `n` matching events with id < before_id (None: from the newest)."""
        where, args = self._where(since, until, profile, spec)
        flt = compile_filter(spec) if spec is not None and not spec.is_empty else None
        found: list[Event] = []
        scanned = 0
        cursor = before_id
        while len(found) < n and scanned < max_scan:
            conds = list(where)
            cargs = list(args)
            if cursor is not None:
                conds.insert(0, "id < ?")
                cargs.insert(0, cursor)
            sql = (f"SELECT {COLUMNS} FROM events"
                   + (" WHERE " + " AND ".join(conds) if conds else "")
                   + f" ORDER BY id DESC LIMIT {CHUNK}")
            rows = self.conn.execute(sql, cargs).fetchall()
            if not rows:
                return Page(found, None, scanned)
            scanned += len(rows)
            chunk = [row_to_event(r) for r in reversed(rows)]
            if flt is not None:
                chunk = [chunk[i] for i in flt.select(chunk)]
            found[:0] = chunk
            cursor = rows[-1][0]
        if len(found) > n:
            found = found[-n:]
        next_before = found[0].seq if found and len(found) >= n else cursor
        return Page(found, next_before, scanned)

    def last_id_before(self, ts: float) -> int | None:
        """The id just after the newest event received before `ts` (a page_before cursor)."""
        row = self.conn.execute("SELECT max(id) FROM events WHERE ts < ?", (ts,)).fetchone()
        return None if row[0] is None else row[0] + 1

    def timeline(self, table: str, key: dict[str, Any], *, profile: str | None = None,
                 limit: int = 10_000) -> list[Event]:
        """Every notification about `table` (as the table column shows it, "schema.table")
        and `key`, oldest first.

        SQL keeps the rows whose payload mentions the table's name and every key value;
        decoding then keeps those whose decoded table and key are exactly these.
        """
        bare = table.rsplit(".", 1)[-1]
        needles = [bare] + [_needle(v) for v in key.values()]
        where = ["kind = ?"] + ["instr(payload, ?) > 0"] * len(needles)
        args: list[Any] = [KIND_NOTIFY, *needles]
        if profile is not None:
            where.append("profile = ?")
            args.append(profile)
        sql = f"SELECT {COLUMNS} FROM events WHERE " + " AND ".join(where) + " ORDER BY id"
        out: list[Event] = []
        want_key = _norm_key(key)
        for row in self.conn.execute(sql, args):
            ev = row_to_event(row)
            d = decoded_of(ev)
            if qualified(d) == table and d.key is not None and _norm_key(d.key) == want_key:
                out.append(ev)
                if len(out) >= limit:
                    break
        return out

    def counts_per_second(self, since: float, mode: str = "channel",
                          profile: str | None = None) -> list[tuple[int, str, int]]:
        """(second, series, count) since `since`: per channel straight from SQL; per
        table/op by decoding (for backfilling the rate graph when it is opened)."""
        cond = "ts >= ? AND kind = 'notify'" + (" AND profile = ?" if profile else "")
        args: list[Any] = [since] + ([profile] if profile else [])
        if mode == "channel":
            sql = (f"SELECT CAST(ts AS INTEGER), channel, count(*) FROM events WHERE {cond} "
                   "GROUP BY 1, 2")
            return [(int(s), c, n) for s, c, n in self.conn.execute(sql, args)]
        from pgwatch_gui.core.journal.rates import series_name

        counts: dict[tuple[int, str], int] = {}
        sql = f"SELECT {COLUMNS} FROM events WHERE {cond} ORDER BY id"
        for row in self.conn.execute(sql, args):
            ev = row_to_event(row)
            k = (int(ev.received_at), series_name(ev, mode))
            counts[k] = counts.get(k, 0) + 1
        return [(s, name, n) for (s, name), n in counts.items()]


def _needle(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)[1:-1]
    return json.dumps(v) if not isinstance(v, (int, float)) else str(v)


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


def read_counts(path: Path | None, since: float, mode: str) -> list[tuple[int, str, int]]:
    with open_reader(path) as r:
        return r.counts_per_second(since, mode)
