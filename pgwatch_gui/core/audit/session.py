"""One audit from start to end: LISTEN, stream the tables' changes, match, clean up.

An `AuditSession` runs a Listener on the plan's channels and a ChangeSource on the
plan's publication (core/replication: its checks, its SQL shown first through
`on_setup`, a TEMPORARY slot, the publication dropped on stop), feeds both into an
`Auditor` and decides what has waited long enough every `tick` seconds. Nothing is
counted until both are running: notifications before the slot streams have no change
to meet.

`stop()` ends the audited span: both streams keep running until everything that
arrived by then is decided (the grace period, longer while the change stream is
behind, at most `END_WAIT` s), then stop; a second `stop()` does not wait. A lost
connection on either side is a gap: what happened meanwhile is not audited, and the
outcome says so. Whatever happens (an error, a cancelled task), the publication is
dropped and the slot goes with its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pgwatch_gui.core.audit.auditor import GRACE, Auditor
from pgwatch_gui.core.audit.plan import AuditPlan
from pgwatch_gui.core.audit.records import change_from_envelope, notice_from_payload
from pgwatch_gui.core.audit.results import GAP, Counts, Discrepancy
from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.replication import publication as pubs
from pgwatch_gui.core.replication.source import ChangeSource, ChangeStatus
from pgwatch_gui.core.stream.events import KIND_CHANGE, KIND_GAP, Event
from pgwatch_gui.core.stream.listener import Listener, Route
from pgwatch_gui.core.stream.status import State, Status

TICK = 0.25
END_WAIT = 30.0  # longest wait after the end for a change stream that is behind
START_TIMEOUT = 60.0

IDLE, STARTING, AUDITING, ENDING, DONE, FAILED = (
    "idle", "starting", "auditing", "ending", "done", "failed")


@dataclass
class AuditOutcome:
    counts: dict = field(default_factory=dict)  # TableName -> Counts
    unattributed: Counts = field(default_factory=Counts)
    ignored: int = 0
    gaps: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def clean(self) -> bool:
        return all(c.clean for c in self.counts.values())


class AuditSession:
    def __init__(
        self,
        conninfo: str,
        plan: AuditPlan,
        setup: pubs.Setup,
        *,
        grace: float = GRACE,
        count: int | None = None,
        profile: str = "",
        route: Route | None = None,
        tick: float = TICK,
        on_found: Callable[[list[Discrepancy]], None] | None = None,
        on_state: Callable[[str, str], None] | None = None,
        on_setup: Callable[[pubs.Setup], None] | None = None,
        on_leftovers: Callable[[list[pubs.Leftover]], None] | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.plan = plan
        self.setup = setup
        self.count = count
        self.profile = profile
        self.route = route
        self.tick = tick
        self.auditor = Auditor(plan.tables, channel_tables=plan.channel_tables,
                               shared=plan.shared, grace=grace)
        self.state = IDLE
        self.detail = ""
        self.changes_read = 0
        self.outcome = AuditOutcome()
        self.source: ChangeSource | None = None
        self.listener: Listener | None = None
        self._on_found = on_found
        self._on_state = on_state
        self._on_setup = on_setup
        self._on_leftovers = on_leftovers
        self._accepting = False
        self._end = asyncio.Event()
        self._hurry = asyncio.Event()
        self._failure: str | None = None

    # ---- control ---------------------------------------------------------------------

    def stop(self) -> None:
        """End the audit (a second call: without waiting for the last counterparts)."""
        if self._end.is_set():
            self._hurry.set()
        self._end.set()

    @property
    def running(self) -> bool:
        return self.state in (STARTING, AUDITING, ENDING)

    # ---- the run ---------------------------------------------------------------------

    async def run(self) -> AuditOutcome:
        self._set(STARTING, "connecting")
        listen_conninfo = self.conninfo
        if self.route is not None:  # the tunnel's string now; the listener must not own it
            try:
                listen_conninfo = await self.route.conninfo()
            except Exception as exc:
                self._failure = one_line(exc)
                self._set(FAILED, self._failure)
                self.outcome.error = self._failure
                return self.outcome
        self.listener = Listener(listen_conninfo, self.plan.channels,
                                 on_batch=self._notices, on_status=self._listener_status,
                                 profile=self.profile)
        self.source = ChangeSource(self.conninfo, setup=self.setup, on_batch=self._changes,
                                   on_status=self._source_status, on_setup=self._on_setup,
                                   on_leftovers=self._on_leftovers, profile=self.profile,
                                   route=self.route)
        tasks = [self.listener.start()]
        try:
            if await self._started(self.listener.wait_listening(START_TIMEOUT), tasks[0]):
                tasks.append(self.source.start())
                if await self._started(self.source.wait_streaming(START_TIMEOUT), tasks[1]):
                    self._accepting = True
                    self._set(AUDITING, self._describe())
                    await self._audit()
        finally:
            await self._stop_streams(tasks)
        self.outcome.error = self._failure
        self._collect()
        self._set(FAILED if self._failure else DONE, self._failure or "")
        return self.outcome

    async def _started(self, waiting, task: asyncio.Task) -> bool:
        """Until `waiting` is done; False when the source's task ended first, or stop()."""
        w = asyncio.ensure_future(waiting)
        end = asyncio.ensure_future(self._end.wait())
        try:
            await asyncio.wait({w, task, end}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            end.cancel()
        if w.done() and not w.cancelled() and w.exception() is None:
            return True
        w.cancel()
        with contextlib.suppress(BaseException):
            await w
        if not self._end.is_set() and self._failure is None:
            self._failure = "did not start"
        return False

    async def _audit(self) -> None:
        a = self.auditor
        while not self._end.is_set() and self._failure is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._end.wait(), self.tick)
            self._found(self._expire())
        end = time.time()
        a.close(end)
        self._set(ENDING, "matching what arrived by the end")
        limit = end + a.grace + END_WAIT
        while not a.settled() and not self._hurry.is_set() and time.time() < limit \
                and self._failure is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._hurry.wait(), self.tick)
            self._found(self._expire())
        self._accepting = False
        self._found(a.finish())

    async def _stop_streams(self, tasks: list[asyncio.Task]) -> None:
        self._accepting = False
        stops = [s.stop() for s in (self.source, self.listener) if s is not None]
        await asyncio.gather(*stops, return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        src = self.source
        if src is not None and src.status.state is State.FAILED and self._failure is None:
            self._failure = src.status.reason  # e.g. the publication could not be dropped

    # ---- the streams -----------------------------------------------------------------

    def _expire(self) -> list[Discrepancy]:
        """Decide what has waited long enough, unless one side still has more on its way:
        the change stream inside a transaction (a Begin read, not yet its Commit) or either
        side with events read and not handed over yet."""
        src, lst = self.source, self.listener
        decoder = getattr(src.reader if src is not None else None, "decoder", None)
        stream_busy = bool(getattr(decoder, "in_transaction", False)) or bool(
            src is not None and src.backlog)
        return self.auditor.expire(time.time(), stream_busy=stream_busy,
                                   listener_busy=bool(lst is not None and lst.backlog))

    def _changes(self, batch: list[Event]) -> None:
        add = self.auditor.add_change
        for ev in batch:
            if ev.kind == KIND_GAP:
                self._gap(ev.payload)
            elif ev.kind == KIND_CHANGE and self._accepting:
                env = ev.decoded.value
                if not isinstance(env, dict):
                    continue
                c = change_from_envelope(env, ev.seq, ev.received_at)
                if self.auditor.cutoff is None:
                    self.changes_read += 1
                add(c)
        if self.count is not None and self.changes_read >= self.count:
            self._end.set()

    def _notices(self, batch: list[Event]) -> None:
        add = self.auditor.add_notice
        for ev in batch:
            if ev.kind == KIND_GAP:
                self._gap(ev.payload)
            elif self._accepting:
                add(notice_from_payload(ev.payload, seq=ev.seq, at=ev.received_at,
                                        channel=ev.channel, pid=ev.pid, decoded=ev.decoded))

    def _gap(self, text: str) -> None:
        if not self._accepting:
            return
        self.outcome.gaps.append(text)
        self._found([Discrepancy(GAP, None, f"not audited: {text}", time.time())])

    def _listener_status(self, st: Status) -> None:
        if st.state is State.FAILED:
            self._failure = f"listening failed: {st.reason}"
            self._end.set()
        elif st.state is State.RECONNECTING and self.running:
            self._set(self.state, f"listener: {st.describe()}")

    def _source_status(self, st: Status) -> None:
        if st.state is State.FAILED:
            self._failure = self._failure or st.reason
            self._end.set()
        elif st.state is State.RECONNECTING and self.running:
            self._set(self.state, f"change stream: {st.describe()}")
        elif st.state is State.CONNECTING and isinstance(st, ChangeStatus) and st.reason:
            self._set(self.state, st.reason)

    # ---- reporting -------------------------------------------------------------------

    def _found(self, found: list[Discrepancy]) -> None:
        if found and self._on_found is not None:
            self._on_found(found)

    def _collect(self) -> None:
        a = self.auditor
        self.outcome.counts = dict(a.counts)
        self.outcome.unattributed = a.unattributed
        self.outcome.ignored = a.ignored

    def _describe(self) -> str:
        src = self.source
        slot = src.status.slot if src is not None and isinstance(src.status, ChangeStatus) else ""
        return (f"auditing {self.plan.describe()}: listening on "
                f"{', '.join(self.plan.channels)}; streaming changes (publication "
                f"{self.setup.name}, temporary slot {slot or self.setup.slot})")

    def _set(self, state: str, detail: str) -> None:
        self.state, self.detail = state, detail
        if self._on_state is not None:
            self._on_state(state, detail)
