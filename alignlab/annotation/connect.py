"""`alignlab annotate connect URL`: work with an existing Argilla 2.x deployment instead of a local server.

The URL is remembered in `<state_dir>/connection.json` (no secrets); the API key always comes from the
environment variable `server.api_key_env`. Connecting checks that the server answers, that it is Argilla 2.x
and that the key belongs to an owner or admin (push creates workspaces, users and datasets).
"""

from __future__ import annotations

from alignlab.annotation.client import ArgillaAPI
from alignlab.annotation.errors import AnnotationError
from alignlab.annotation.state import CONNECTION_FILE, Paths, write_private_json
from alignlab.config.annotate import ServerSection


def connect(server: ServerSection, url: str) -> list[str]:
    import os

    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise AnnotationError(f"{url!r}: expected an http:// or https:// URL of an Argilla server")
    api_key = os.environ.get(server.api_key_env)
    if not api_key:
        raise AnnotationError(f"set ${server.api_key_env} to an owner's API key of {url} first")
    api = ArgillaAPI(url, api_key, key_source=f"${server.api_key_env}", timeout_s=server.request_timeout_s,
                     retry_max_s=min(server.retry_max_s, 10.0))
    try:
        version = api.get("/api/v1/version").get("version", "?")
        me = api.get("/api/v1/me")
    finally:
        api.close()
    if not str(version).startswith("2."):
        raise AnnotationError(f"{url} runs Argilla {version}; alignlab needs Argilla 2.x")
    if me.get("role") not in ("owner", "admin"):
        raise AnnotationError(f"{url}: ${server.api_key_env} belongs to {me.get('username')!r}, an "
                              f"{me.get('role')}; push needs an owner or admin key")
    paths = Paths.of(server)
    write_private_json(paths.root / CONNECTION_FILE, {"url": url})
    return [f"connected to Argilla {version} at {url} as {me.get('username')} ({me.get('role')})",
            "push and pull now use it; `alignlab annotate connect --local` switches back"]


def forget(server: ServerSection) -> None:
    (Paths.of(server).root / CONNECTION_FILE).unlink(missing_ok=True)
