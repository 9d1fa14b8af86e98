"""A tiny PostgreSQL wire proxy for tests: pretends to be a pooler in front of the server.

It accepts TCP connections on 127.0.0.1 and forwards bytes to the test server. It can
drop every NotificationResponse the server sends (what a transaction pooler does to
LISTEN: accepted, then nothing arrives) and hand out a made-up backend pid in
BackendKeyData (as PgBouncer does). Clients must use sslmode=disable and
gssencmode=disable, so the server's side of the stream is nothing but typed messages.

It can also misbehave as a network does: `blackhole()` makes every connection open at
that moment go silent without closing (a NAT or firewall that forgot it: bytes are
swallowed both ways, no FIN, no RST), while new connections work; `down()` closes
every connection and refuses new ones (the server is away) until `up()`.
"""

from __future__ import annotations

import asyncio
import struct
import threading

from psycopg import conninfo as _ci


class PgProxy:
    def __init__(self, server_dsn: str, *, drop_notifications: bool = False,
                 fake_pid: int | None = None) -> None:
        params = _ci.conninfo_to_dict(server_dsn)
        self.upstream = {k: v for k, v in params.items() if k in ("user", "dbname", "password")}
        self.host = params.get("host") or "/tmp"
        self.port = int(params.get("port") or 5432)
        self.drop_notifications = drop_notifications
        self.fake_pid = fake_pid
        self.dropped = 0
        self.swallowed = 0  # bytes a blackholed connection ate
        self.is_down = False
        self.listen_port = 0
        self._ids = 0
        self._open: dict[int, tuple] = {}
        self._held: set[int] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def dsn(self, **params: str) -> str:
        """A connection string to the proxy, with the server DSN's user and database."""
        base = {**self.upstream, "host": "127.0.0.1", "port": str(self.listen_port),
                "sslmode": "disable", "gssencmode": "disable"}
        base.update(params)
        return _ci.make_conninfo("", **base)

    def blackhole(self) -> None:
        """Every connection open now goes silent, without closing; new ones work."""
        self._held.update(self._open)

    def down(self) -> None:
        """Close every connection and refuse new ones until up()."""
        self.is_down = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._close_all)

    def up(self) -> None:
        self.is_down = False

    def _close_all(self) -> None:
        for writers in list(self._open.values()):
            for w in writers:
                w.close()

    def __enter__(self) -> PgProxy:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0))
        self.listen_port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _open_upstream(self):
        if self.host.startswith("/"):
            return await asyncio.open_unix_connection(f"{self.host}/.s.PGSQL.{self.port}")
        return await asyncio.open_connection(self.host, self.port)

    async def _client(self, c_reader: asyncio.StreamReader,
                      c_writer: asyncio.StreamWriter) -> None:
        # A handler cancelled when the proxy stops ends quietly: on Python 3.11,
        # asyncio's stream server reports a cancelled handler task to the loop's exception
        # handler, which the suite's guard counts as an unhandled error.
        try:
            await self._serve(c_reader, c_writer)
        except asyncio.CancelledError:
            c_writer.close()

    async def _serve(self, c_reader: asyncio.StreamReader,
                     c_writer: asyncio.StreamWriter) -> None:
        if self.is_down:
            c_writer.close()
            return
        s_reader, s_writer = await self._open_upstream()
        self._ids += 1
        cid = self._ids
        self._open[cid] = (c_writer, s_writer)
        up = asyncio.ensure_future(self._pipe(c_reader, s_writer, cid))
        down = asyncio.ensure_future(self._server_to_client(s_reader, c_writer, cid))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._open.pop(cid, None)
            for t in (up, down):
                t.cancel()
            for w in (c_writer, s_writer):
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    cid: int) -> None:
        while data := await reader.read(65536):
            if cid in self._held:
                self.swallowed += len(data)
                continue
            writer.write(data)
            await writer.drain()

    async def _server_to_client(self, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter, cid: int) -> None:
        while True:
            head = await reader.readexactly(5)
            kind, length = head[:1], struct.unpack("!I", head[1:])[0]
            body = await reader.readexactly(length - 4)
            if cid in self._held:
                self.swallowed += len(head) + len(body)
                continue
            if kind == b"A" and self.drop_notifications:
                self.dropped += 1
                continue
            if kind == b"K" and self.fake_pid is not None:
                body = struct.pack("!I", self.fake_pid) + body[4:]
            writer.write(head + body)
            await writer.drain()
