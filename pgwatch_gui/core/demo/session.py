"""The demo: an embedded PostgreSQL (or a given database) with the shop and its triggers.

    demo = Demo()                    # or Demo(dsn="postgresql://...") for another database
    conninfo = demo.start()          # server up, schema and triggers in place
    gen = demo.generator(rate=200)   # await gen.run(); gen.rate = 1000 while running
    demo.stop()                      # generator and (embedded) server stopped

The pieces: demo_server (embedded server, data dir, lock), demo_schema (tables,
triggers), demo_generator (the change generator).
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from pgwatch_gui.core.demo.generator import MAX_RATE, ChangeGenerator, GeneratorError
from pgwatch_gui.core.demo.schema import CHANNELS, ensure_schema
from pgwatch_gui.core.demo.server import DemoBusyError, DemoError, DemoServer
from pgwatch_gui.core.pg.connection import (
    ConnectionConfigError,
    make_conninfo,
    one_line,
    redact,
)
from pgwatch_gui.core.triggers.manage import TriggerError

__all__ = [
    "CHANNELS",
    "MAX_RATE",
    "ChangeGenerator",
    "Demo",
    "DemoBusyError",
    "DemoError",
    "GeneratorError",
]

PROFILE_NAME = "Demo"
WRITER_APPLICATION_NAME = "pgwatch-gui demo writer"


class Demo:
    def __init__(self, *, dsn: str | None = None, reset: bool = False,
                 root: Path | None = None) -> None:
        self.dsn = dsn
        self.server = None if dsn else DemoServer(root, reset=reset)
        self.conninfo = ""  # for this app's connections (application_name pgwatch-gui)
        self.public_dsn = ""  # for people: what to give psql (no password, no app name)
        self.channels = CHANNELS
        self._generators: list[ChangeGenerator] = []

    @property
    def embedded(self) -> bool:
        return self.server is not None

    def start(self) -> str:
        """Start the server (embedded demo only) and set up the shop; the conninfo."""
        if self.conninfo:
            return self.conninfo
        plain = self.server.start() if self.server is not None else self.dsn or ""
        try:
            conninfo = make_conninfo(plain)  # application_name=pgwatch-gui, as promised
        except ConnectionConfigError as exc:
            self.stop()
            raise DemoError(str(exc)) from None
        try:
            ensure_schema(conninfo)
        except (psycopg.Error, TriggerError) as exc:
            self.stop()
            raise DemoError(f"could not set up the demo schema: {one_line(exc)}") from None
        self.conninfo = conninfo
        self.public_dsn = redact(plain)
        return conninfo

    def generator(self, rate: float = 50, **kw) -> ChangeGenerator:
        conninfo = make_conninfo(self.start(), application_name=WRITER_APPLICATION_NAME)
        gen = ChangeGenerator(conninfo, rate, **kw)
        self._generators.append(gen)
        return gen

    def stop(self) -> None:
        for gen in self._generators:
            gen.stop()
        self._generators.clear()
        if self.server is not None:
            self.server.stop()
        self.conninfo = ""
        self.public_dsn = ""

    def emergency_stop(self) -> None:
        """Any thread, last resort: the embedded server down and its lock free."""
        if self.server is not None:
            self.server.emergency_stop()

    def __enter__(self) -> Demo:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
