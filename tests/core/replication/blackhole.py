"""A TCP proxy to the test server whose open connections can go silent without closing.

What a NAT or a firewall does to an idle connection: nothing arrives any more, and
nothing says so. `freeze()` stops forwarding on every connection open at that moment;
connections made afterwards work again. The server is reached on its Unix socket.
"""

from __future__ import annotations

import asyncio
import os
import threading

from psycopg import conninfo as _ci


class Blackhole:
    def __init__(self, server_dsn: str) -> None:
        params = _ci.conninfo_to_dict(server_dsn)
        self.upstream = {k: v for k, v in params.items() if k in ("user", "dbname")}
        self.socket = os.path.join(params.get("host") or "/tmp",
                                   f".s.PGSQL.{params.get('port') or 5432}")
        self.port = 0
        self._generation = 0
        self._frozen_below = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def dsn(self, **params: str) -> str:
        base = {**self.upstream, "host": "127.0.0.1", "port": str(self.port),
                "sslmode": "disable", "gssencmode": "disable", **params}
        return _ci.make_conninfo("", **base)

    def freeze(self) -> None:
        self._frozen_below = self._generation + 1

    def __enter__(self) -> Blackhole:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            # Sockets close on a later loop turn: let it come, so the server sees EOF now.
            for w in self._writers:
                w.close()
            self._server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()
            await asyncio.sleep(0.1)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, c_reader, c_writer) -> None:
        # A handler cancelled when the proxy stops ends quietly: on Python 3.11 asyncio's
        # stream server reports a cancelled handler to the loop's exception handler,
        # which the suite's guard counts as an unhandled error.
        try:
            await self._serve(c_reader, c_writer)
        except asyncio.CancelledError:
            c_writer.close()

    async def _serve(self, c_reader, c_writer) -> None:
        self._generation += 1
        gen = self._generation
        s_reader, s_writer = await asyncio.open_unix_connection(self.socket)
        self._writers += [c_writer, s_writer]

        async def pipe(reader, writer) -> None:
            while True:
                data = await reader.read(65536)
                if not data:
                    writer.close()
                    return
                while gen < self._frozen_below:  # silent, and never closing
                    await asyncio.sleep(3600)
                writer.write(data)

        await asyncio.gather(pipe(c_reader, s_writer), pipe(s_reader, c_writer),
                             return_exceptions=True)
