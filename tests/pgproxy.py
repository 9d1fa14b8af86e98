"""A tiny PostgreSQL wire proxy for tests: pretends to be a pooler in front of the server.

It accepts TCP connections on 127.0.0.1 and forwards bytes to the test server. It can
drop every NotificationResponse the server sends (what a transaction pooler does to
LISTEN: accepted, then nothing arrives) and hand out a made-up backend pid in
BackendKeyData (as PgBouncer does). Clients must use sslmode=disable and
gssencmode=disable, so the server's side of the stream is nothing but typed messages.
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
        self.listen_port = 0
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
        s_reader, s_writer = await self._open_upstream()
        up = asyncio.ensure_future(self._pipe(c_reader, s_writer))
        down = asyncio.ensure_future(self._server_to_client(s_reader, c_writer))
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for t in (up, down):
            t.cancel()
        for w in (c_writer, s_writer):
            w.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()

    async def _server_to_client(self, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readexactly(5)
            kind, length = head[:1], struct.unpack("!I", head[1:])[0]
            body = await reader.readexactly(length - 4)
            if kind == b"A" and self.drop_notifications:
                self.dropped += 1
                continue
            if kind == b"K" and self.fake_pid is not None:
                body = struct.pack("!I", self.fake_pid) + body[4:]
            writer.write(head + body)
            await writer.drain()
