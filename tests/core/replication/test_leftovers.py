"""Which publications of this tool are left over (issue 21: after kill -9 of `changes`,
its publication was invisible for a minute and --drop-leftovers found nothing)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import psycopg
import pytest

from pgwatch_gui.core.replication import publication as pubs
from tests.core.replication.streams import execute


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()  # ended and reaped: nothing runs under that pid now (barring reuse)
    return p.pid


def make(dsn: str, token: str, **comment) -> str:
    name = pubs.PREFIX + token
    info = {pubs.MARK: "change stream", "slot": pubs.SLOT_PREFIX + token,
            "created": round(time.time()), **comment}
    execute(dsn, [f"CREATE PUBLICATION {name}",
                  f"COMMENT ON PUBLICATION {name} IS '{json.dumps(info)}'"])
    return name


def left(dsn: str) -> list[str]:
    async def main():
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as c:
            return [x.name for x in await pubs.leftovers(c)]
    return asyncio.run(main())


def test_the_comment_names_the_process_that_made_it():
    setup = pubs.Setup("pgwatch_changes_x", "pgwatch_slot_x", tables=())
    comment = json.loads(setup.statements(now=5)[-1].as_string(None).split(" IS ", 1)[1]
                         .strip("'"))
    assert comment["host"] == socket.gethostname() and comment["pid"] == os.getpid()
    assert comment["slot"] == "pgwatch_slot_x" and comment["created"] == 5


def test_a_fresh_publication_of_a_process_that_is_gone_is_left_over(logical_dsn):
    here = socket.gethostname()
    gone = make(logical_dsn, "gone", host=here, pid=dead_pid())
    make(logical_dsn, "alive", host=here, pid=os.getpid())  # may be creating its slot
    make(logical_dsn, "elsewhere", host="another-host", pid=dead_pid())  # cannot tell
    make(logical_dsn, "old_format")  # written before the comment named its process
    old = make(logical_dsn, "old", host="another-host", pid=1,
               created=round(time.time() - pubs.LEFTOVER_GRACE - 5))
    assert left(logical_dsn) == sorted([gone, old])


def test_a_publication_whose_slot_exists_is_in_use(logical_dsn):
    make(logical_dsn, "busy", host=socket.gethostname(), pid=dead_pid(),
         created=round(time.time() - 3600))
    make(logical_dsn, "again", host=socket.gethostname(), pid=dead_pid())
    with psycopg.connect(logical_dsn, autocommit=True) as c:
        for slot in ("pgwatch_slot_busy", "pgwatch_slot_again_2"):  # a reconnect's slot
            c.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
        try:
            assert left(logical_dsn) == []
        finally:
            for slot in ("pgwatch_slot_busy", "pgwatch_slot_again_2"):
                c.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    assert len(left(logical_dsn)) == 2


@pytest.mark.skipif(os.name != "posix", reason="no process check where os.kill would end it")
def test_process_gone_asks_only_about_this_host():
    assert pubs.process_gone(socket.gethostname(), dead_pid())
    assert not pubs.process_gone(socket.gethostname(), os.getpid())
    assert not pubs.process_gone("another-host", dead_pid())
    assert not pubs.process_gone("", dead_pid())
    assert not pubs.process_gone(socket.gethostname(), 0)
