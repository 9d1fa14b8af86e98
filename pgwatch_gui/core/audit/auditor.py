"""The matching engine: committed changes and notifications in, discrepancies out.

Pure and clock-free: the caller passes each item's arrival time and `now`, so it is
tested on synthetic changes and notifications. Both sides arrive after COMMIT, in no
set order, so nothing is decided at once except a match:

- an item that finds its counterpart among the waiting ones (fitting, values equal)
  is matched on arrival, the strongest evidence first (txid, key, table, operation),
  the earliest on a tie;
- a change still waiting `grace` seconds after it arrived is paired with a waiting
  notification that fits it but disagrees on values (mismatched), or else is missing;
- a notification waits `grace` seconds too, and beyond that while the change stream
  may still be behind it: until a transaction committed after it has been read, or
  the stream has been quiet for `grace` seconds outside a transaction. Then it is
  paired with a fitting change (mismatched), or else unexpected.

`close(at)` marks the end of the audited span; `finish()` decides everything that
arrived by then and leaves out what arrived later without a counterpart.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from pgwatch_gui.core.audit import reasons
from pgwatch_gui.core.audit.matching import differences, evidence
from pgwatch_gui.core.audit.records import XID_MASK, Change, Notice, TableName
from pgwatch_gui.core.audit.results import (
    MISMATCHED,
    MISSING,
    UNEXPECTED,
    Counts,
    Discrepancy,
)
from pgwatch_gui.core.audit.waiting import RowKey, Waiting, change_key, notice_key

GRACE = 2.0


class Auditor:
    def __init__(self, tables: Iterable[reasons.TableFacts], *,
                 channel_tables: Mapping[str, Iterable[TableName]] | None = None,
                 shared: Mapping[str, Iterable[str]] | None = None,
                 grace: float = GRACE) -> None:
        self.facts = {t.name: t for t in tables}
        self.channel_tables = {ch: frozenset(ts) for ch, ts in (channel_tables or {}).items()}
        self.shared = {ch: tuple(ts) for ch, ts in (shared or {}).items()}
        self.grace = grace
        self.counts = {name: Counts() for name in self.facts}
        self.unattributed = Counts()  # unexpected notifications naming no audited table
        self.ignored = 0  # notifications about tables not audited
        self.found: list[Discrepancy] = []
        self.cutoff: float | None = None
        self._changes = Waiting()
        self._notices = Waiting()
        self._key_columns = {t.name: t.key for t in self.facts.values()}  # as the stream has it
        # Matches of the last moments, by (xid, table, row key): for merged payloads.
        self._recent: dict[tuple, list[tuple[Notice, Change]]] = {}
        self._recent_order: deque[tuple[float, tuple]] = deque()
        # How far the change stream has got, for notices that wait on it.
        self._last_change_at: float | None = None
        self._offset: float | None = None  # min(arrival - commit time): clock skew + delay
        self._open: tuple[int | None, float | None] = (None, None)  # xid, commit time
        self._done_commit: float | None = None  # commit time of the last whole transaction

    # ---- feeding ---------------------------------------------------------------------

    def add_change(self, c: Change) -> None:
        self._progress(c)
        if c.table not in self.facts:
            return
        if c.key:
            self._key_columns[c.table] = tuple(c.key)
        best = self._best_notice(c, perfect=True)
        if best is not None:
            self._match(best, c)
            return
        self._changes.add(c, {c.table: change_key(c)}, c.xid)
        self.counts[c.table].waiting += 1

    def add_notice(self, n: Notice) -> None:
        if n.table is not None and not self._named_tables(n):
            self.ignored += 1  # about a table this audit does not cover
            return
        best = self._best_change(n, perfect=True)
        if best is not None:
            self._match(n, best)
            return
        self._notices.add(n, self._notice_keys(n), n.txid)

    def close(self, at: float) -> None:
        """The audited span ends at `at` (later arrivals only complete what came before)."""
        if self.cutoff is None:
            self.cutoff = at

    # ---- deciding --------------------------------------------------------------------

    def expire(self, now: float, *, stream_busy: bool = False,
               listener_busy: bool = False) -> list[Discrepancy]:
        """Decide every item that has waited long enough; returns the new discrepancies.

        `stream_busy`: the change stream is inside a transaction or has rows read and not
        handed over (more are on their way, however long a pause), so it is not quiet.
        `listener_busy`: notifications are read and not handed over yet: no change is
        called missing while its notification may be among them."""
        end = self.cutoff if self.cutoff is not None else now
        due_c = [] if listener_busy else [
            c for c in self._changes.values() if c.at + self.grace <= now and c.at <= end]
        due_n = [n for n in self._notices.values()
                 if n.at + self.grace <= now and n.at <= end
                 and self._covered(n.at, now, stream_busy)]
        found = self._decide(due_c, due_n)
        self._prune(now)
        return found

    def settled(self) -> bool:
        """Nothing that arrived by the cutoff is still waiting."""
        end = self.cutoff
        if end is None:
            return not (self._changes or self._notices)
        return not any(c.at <= end for c in self._changes.values()) and not any(
            n.at <= end for n in self._notices.values())

    def finish(self) -> list[Discrepancy]:
        """Decide whatever arrived by the cutoff; forget what came after without a match."""
        end = self.cutoff if self.cutoff is not None else float("inf")
        found = self._decide([c for c in self._changes.values() if c.at <= end],
                             [n for n in self._notices.values() if n.at <= end])
        for c in list(self._changes.values()):
            self._drop_change(c)
            self.counts[c.table].waiting -= 1
        for n in list(self._notices.values()):
            self._drop_notice(n)
        return found

    @property
    def clean(self) -> bool:
        return all(c.clean for c in self.counts.values())

    # ---- inside ----------------------------------------------------------------------

    def _decide(self, due_c: list[Change], due_n: list[Notice]) -> list[Discrepancy]:
        found: list[Discrepancy] = []
        for item in sorted([*due_c, *due_n], key=lambda x: x.at):
            if isinstance(item, Change):
                if item not in self._changes:
                    continue
                n = self._best_notice(item, perfect=False)
                found.append(self._pair(n, item) if n is not None else self._missing(item))
            else:
                if item not in self._notices:
                    continue
                c = self._best_change(item, perfect=False)
                found.append(self._pair(item, c) if c is not None else self._unexpected(item))
        found = [d for d in found if d is not None]
        self.found.extend(found)
        return found

    def _named_tables(self, n: Notice) -> list[TableName]:
        return [t for t in self.facts
                if t[1] == n.table and (n.schema is None or t[0] == n.schema)]

    def _candidates_of(self, n: Notice) -> list[TableName]:
        if n.table is not None:
            return self._named_tables(n)
        on = self.channel_tables.get(n.channel)
        return sorted(on) if on else list(self.facts)

    def _notice_keys(self, n: Notice) -> dict[TableName, RowKey | None]:
        return {t: notice_key(n, self._key_columns.get(t, ())) for t in self._candidates_of(n)}

    def _best_notice(self, c: Change, *, perfect: bool) -> Notice | None:
        pool = self._notices.near(c.table, change_key(c), c.xid)
        return self._best(c, pool, perfect, notice_side=True)

    def _best_change(self, n: Notice, *, perfect: bool) -> Change | None:
        keys = self._notice_keys(n)
        if len(keys) == 1:
            ((table, key),) = keys.items()
            pool = self._changes.near(table, key, n.txid)
        else:
            pool = list({id(c): c for t, k in keys.items()
                         for c in self._changes.near(t, k, n.txid)}.values())
        return self._best(n, pool, perfect, notice_side=False)

    def _best(self, item, pool, perfect: bool, *, notice_side: bool):
        """The candidate with the strongest evidence, the earliest on a tie."""
        best, best_score = None, -1
        for other in pool:
            n, c = (other, item) if notice_side else (item, other)
            score = evidence(n, c, self.channel_tables.get(n.channel), strict_op=perfect)
            if score is None or score < best_score or (
                    score == best_score and other.at >= best.at):
                continue
            if perfect and differences(n, c):
                continue
            best, best_score = other, score
        return best

    def _match(self, n: Notice, c: Change) -> None:
        self._take(n, c)
        self.counts[c.table].matched += 1
        if c.xid is not None:
            slot = (c.xid & XID_MASK, c.table, change_key(c))
            self._recent.setdefault(slot, []).append((n, c))
            self._recent_order.append((max(n.at, c.at), slot))

    def _pair(self, n: Notice, c: Change) -> Discrepancy | None:
        diffs = differences(n, c)
        if not diffs:  # fits and agrees: a late match
            self._match(n, c)
            return None
        self._take(n, c)
        self.counts[c.table].mismatched += 1
        return Discrepancy(MISMATCHED, c.table, reasons.mismatch_reason(n, c, diffs),
                           max(n.at, c.at), c, n, tuple(diffs))

    def _missing(self, c: Change) -> Discrepancy:
        self._drop_change(c)
        counts = self.counts[c.table]
        counts.waiting -= 1
        counts.missing += 1
        return Discrepancy(MISSING, c.table, reasons.missing_reason(
            c, self.facts.get(c.table), merged_with=self._merged(c), grace=self.grace),
            c.at, c)

    def _unexpected(self, n: Notice) -> Discrepancy:
        self._drop_notice(n)
        candidates = self._candidates_of(n)
        table = candidates[0] if len(candidates) == 1 else None
        (self.counts[table] if table is not None else self.unattributed).unexpected += 1
        return Discrepancy(UNEXPECTED, table, reasons.unexpected_reason(
            n, table, candidates, self.shared.get(n.channel, ()), self.grace), n.at, None, n)

    def _merged(self, c: Change) -> Change | None:
        """A change of the same transaction whose notification also fits `c` exactly: the
        server merged their identical payloads into one."""
        if c.xid is None:
            return None
        for n, other in self._recent.get((c.xid & XID_MASK, c.table, change_key(c)), ()):
            if other.table == c.table and evidence(
                    n, c, self.channel_tables.get(n.channel)) is not None \
                    and not differences(n, c):
                return other
        return None

    def _take(self, n: Notice, c: Change) -> None:
        self._notices.remove(n)
        if self._changes.remove(c):
            self.counts[c.table].waiting -= 1

    def _drop_change(self, c: Change) -> None:
        self._changes.remove(c)

    def _drop_notice(self, n: Notice) -> None:
        self._notices.remove(n)

    def _prune(self, now: float) -> None:
        keep_from = now - 4 * self.grace
        order = self._recent_order
        while order and order[0][0] < keep_from:
            _t, slot = order.popleft()
            self._recent.pop(slot, None)

    # ---- the change stream's progress --------------------------------------------------

    def _progress(self, c: Change) -> None:
        self._last_change_at = c.at
        if c.commit_time is None:
            return
        lag = c.at - c.commit_time
        if self._offset is None or lag < self._offset:
            self._offset = lag
        xid, commit = self._open
        if c.xid != xid:
            if commit is not None:
                self._done_commit = max(self._done_commit or commit, commit)
            self._open = (c.xid, c.commit_time)

    def _covered(self, t: float, now: float, busy: bool = False) -> bool:
        """The change stream has read every transaction committed before `t`."""
        if (self._done_commit is not None and self._offset is not None
                and self._done_commit + self._offset >= t):
            return True  # a transaction committed after `t` has been read whole
        if busy:
            return False  # in the middle of a transaction: a pause is not the end
        return self._last_change_at is None or now - self._last_change_at >= self.grace
