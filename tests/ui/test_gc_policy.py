"""The GC policy: startup objects frozen, young objects frozen while events stream in,
full collections only when quiet, settings restored on uninstall."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject

from pgwatch_gui.ui.shell import gc_policy


def test_policy_freezes_collects_when_quiet_and_restores(qapp, monkeypatch):
    before = gc.get_threshold()
    total = {"n": 0}
    owner = QObject()
    policy = gc_policy.install(owner, lambda: total["n"])
    try:
        assert gc.get_threshold() == gc_policy.THRESHOLDS
        assert gc.get_freeze_count() > 0 and policy.full_collections == 1
        total["n"] = gc_policy.FREEZE_AFTER_EVENTS + 1
        policy.tick()
        assert policy.freezes == 1
        policy.tick()  # nothing new: no freeze
        assert policy.freezes == 1
        # five quiet seconds after a minute: a full collection
        t0, _n = policy._rate_mark
        policy._rate_mark = (t0 - 5.0, total["n"])
        policy.last_full -= gc_policy.FULL_EVERY
        policy.tick()
        assert policy.full_collections == 2 and policy.rate == 0.0
        # a busy stream postpones it, up to FULL_AT_LATEST
        policy._rate_mark = (policy._rate_mark[0] - 5.0, total["n"] - 100_000)
        policy.last_full -= gc_policy.FULL_EVERY
        policy.tick()
        assert policy.full_collections == 2 and policy.rate > gc_policy.QUIET_RATE
    finally:
        policy.uninstall()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_freed_memory_goes_back_while_events_stream(qapp):
    """Issue 23: RSS after 1,000,000 events held about 12 MB the process had freed into
    the C heap; the policy gives it back every TRIM_EVERY seconds while events arrive."""
    total = {"n": 0}
    owner = QObject()
    policy = gc_policy.install(owner, lambda: total["n"])
    calls = []
    try:
        if policy._trim is not None:  # glibc: the real thing once, then counted
            policy._trim()
        policy._trim = lambda: calls.append(1)
        policy.tick()
        assert calls == []  # nothing arrived
        total["n"] = 10
        policy._trimmed = (policy._trimmed[0] - gc_policy.TRIM_EVERY, 0)
        policy.tick()
        assert calls == [1] and policy.trims == 1
        total["n"] = 20
        policy.tick()  # too soon, and events still arrive
        assert calls == [1]
        policy.tick()  # they stopped: once more
        assert calls == [1, 1]
        policy.tick()  # nothing new since
        assert calls == [1, 1]
    finally:
        policy.uninstall()


def test_a_burst_that_stops_is_trimmed_at_once(qapp):
    """Issue 23: RSS read 0.2 s after 1,000,000 events held 25 MB the process had already
    freed (a burst's journal blocks), given back only at the next trim, up to 0.4 s later
    (a look every 200 ms). The policy looks every 50 ms now: a stream that stopped is
    trimmed on the next look; freezing stays at most every FREEZE_MS."""
    import time

    total = {"n": 0}
    owner = QObject()
    policy = gc_policy.install(owner, lambda: total["n"])
    calls = []
    try:
        assert policy.timer.interval() <= 100  # was 200
        policy._trim = lambda: calls.append(1)
        policy._trimmed = (time.monotonic() + 60, 0)  # the periodic trim is not due
        total["n"] = 50_000  # a burst
        policy.tick()  # it is still arriving
        assert calls == [] and policy.freezes == 1
        policy.tick()  # the next look: it stopped
        assert calls == [1]
        total["n"] += 5_000
        policy.tick()  # 50 ms after the last freeze: not yet
        assert policy.freezes == 1
        policy._frozen_t -= gc_policy.FREEZE_MS / 1000
        policy.tick()
        assert policy.freezes == 2
    finally:
        policy.uninstall()
