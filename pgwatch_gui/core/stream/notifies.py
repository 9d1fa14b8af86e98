"""psycopg's notifications, made by C code.

psycopg hands over each notification as a `PGnotify(relname, be_pid, extra)`, a
NamedTuple: its constructor is Python code (about 200 ns, a third of what reading one
notification costs here) and each one is an object the garbage collector tracks, so a
burst of them sets off collections. psycopg's C implementations (psycopg_binary,
psycopg_c) look the name `PGnotify` up in their module for every notification;
`use_fast_notifies()` puts there `Notification`, a msgspec struct with the same fields,
made by C code (about 50 ns) and not tracked.

What psycopg does with a PGnotify is read its three attributes, which `Notification`
has too, so the rest of psycopg (its `notifies()` generator, its notify handlers) works
as before; readers in this package read attributes too (`RELNAME`, `PID`, `EXTRA`),
never positions, so a PGnotify works as well. Nothing is replaced unless the module
holds exactly psycopg's own PGnotify: another psycopg keeps its class, and only costs
the old price.
"""

from __future__ import annotations

import sys
from operator import attrgetter

import msgspec
import psycopg.pq
from psycopg.pq.misc import PGnotify

RELNAME, PID, EXTRA = attrgetter("relname"), attrgetter("be_pid"), attrgetter("extra")


class Notification(msgspec.Struct, gc=False):
    """One notification as libpq gives it: the channel and payload as bytes."""

    relname: bytes
    be_pid: int
    extra: bytes


def use_fast_notifies() -> bool:
    """Have psycopg make Notifications rather than PGnotify tuples; True when it does.
    Idempotent and cheap: called by every reader before it starts."""
    module = sys.modules.get(psycopg.pq.PGconn.__module__)
    made = getattr(module, "PGnotify", None)
    if made is PGnotify:
        module.PGnotify = Notification  # type: ignore[union-attr]
        return True
    return made is Notification
