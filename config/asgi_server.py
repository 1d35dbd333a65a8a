"""uvicorn's configuration as ``manage.py serve`` uses it (no Django imports: with several
workers it is pickled into each worker process)."""

import socket

import uvicorn


class ServerConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        """The listening socket of several worker processes, marked as TCP.

        uvicorn creates it with protocol 0, and asyncio sets TCP_NODELAY only on accepted
        sockets whose protocol says TCP (uvicorn#3149): without it a small response waits about
        40 ms for the client's delayed ACK.
        """
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
