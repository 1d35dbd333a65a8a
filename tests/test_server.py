"""The socket ``manage.py serve --workers N`` listens on."""

import asyncio
import socket

from config.asgi_server import ServerConfig


def test_connections_of_several_workers_send_small_responses_at_once() -> None:
    """asyncio turns Nagle's algorithm off only on connections accepted from a socket marked
    as TCP; otherwise each small response waits for the client's delayed ACK (~40 ms)."""
    config = ServerConfig("config.asgi:application", host="127.0.0.1", port=0, workers=2)
    listening = config.bind_socket()

    async def accepted_nodelay() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=listening)
        async with server:
            _reader, writer = await asyncio.open_connection(*listening.getsockname())
            try:
                return await asyncio.wait_for(accepted, timeout=10)
            finally:
                writer.close()

    assert asyncio.run(accepted_nodelay()) == 1
