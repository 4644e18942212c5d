"""A counting TCP relay: sits between the client and a played sshd and counts every byte.

Counting at the connection (not in the client) catches all of it: SSH framing, key exchange,
compression, retransmitted channel data. It runs on its own thread and loop, so the process
that measures can block on subprocesses while the relay keeps forwarding.
"""

from __future__ import annotations

import asyncio
import threading
import time

from tests.conftest import free_port


class CountingRelay:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.up = 0  # client -> host
        self.down = 0  # host -> client
        self.first = self.last = None  # wall-clock times (time.time) of the first and last byte seen
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result()

    @property
    def bytes(self) -> int:
        return self.up + self.down

    def reset(self) -> None:
        self.up = self.down = 0
        self.first = self.last = None

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def _client(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self._pipe(reader, up_writer, "up"), self._pipe(up_reader, writer, "down"))

    async def _pipe(self, reader, writer, direction: str) -> None:
        try:
            while data := await reader.read(65536):
                now = time.time()
                self.first = self.first or now
                self.last = now
                setattr(self, direction, getattr(self, direction) + len(data))
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
