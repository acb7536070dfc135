"""The annotation state folder and the secrets in it: where things live, and which server and key to use.

    <state_dir>/
      credentials.json   private (0600): owner API key and password, server secret, generated annotator
                         passwords. Written only for a local server; environment variables win over it.
      connection.json    the server `annotate connect URL` chose (no secrets)
      local.json         the URL `annotate up` started the local server at (later commands here use it)
      server/            the local server: argilla.db, tmp/ (its web UI copy), logs/, run/*.json (PIDs)
      sync/<key>/        resumable push ledger and pull pages, one folder per (server, workspace, dataset)

Secrets are read from the environment first (`server.api_key_env`, `server.password_env`,
`server.annotator_password_env`); they are never written to logs, run directories or outputs.

Files that hold secrets are private to the user: `credentials.json` and the server's SQLite database (it
stores every user's API key in plain text, and so do its WAL and shared-memory files), and every folder
from them up to the state root (0600 files, 0700 folders). `secure_state` tightens looser modes whenever
the state is opened (`annotate up`, push, pull, status) and reports what it changed in one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.annotation.errors import AnnotationError
from alignlab.config.annotate import ServerSection
from alignlab.utils.io import atomic_write_text

SERVER_VERSION = "2.8.0"
CREDENTIALS_FILE = "credentials.json"
CONNECTION_FILE = "connection.json"
LOCAL_FILE = "local.json"
# Relative to the state root: folders (0700) and files (0600) that hold secrets or lead to them.
PRIVATE_DIRS = (".", "server", "server/redis")
PRIVATE_FILES = (CREDENTIALS_FILE, "server/argilla.db", "server/argilla.db-wal", "server/argilla.db-shm",
                 "server/argilla.db-journal")


def default_venv_dir() -> Path:
    """Where the server's virtual environment lives unless configured: shared by every project on the machine."""
    configured = os.environ.get("ALIGNLAB_ARGILLA_VENV")
    if configured:
        return Path(configured).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "alignlab" / f"argilla-server-{SERVER_VERSION}"


@dataclass(frozen=True)
class Paths:
    """Every file and folder of one state directory."""

    root: Path
    venv: Path

    @classmethod
    def of(cls, server: ServerSection) -> Paths:
        venv = server.venv_dir.expanduser() if server.venv_dir else default_venv_dir()
        return cls(root=server.state_dir.expanduser(), venv=venv)

    @property
    def server(self) -> Path:
        return self.root / "server"

    @property
    def logs(self) -> Path:
        return self.server / "logs"

    @property
    def pids(self) -> Path:
        return self.server / "run"

    @property
    def tmp(self) -> Path:
        return self.server / "tmp"

    @property
    def redis(self) -> Path:
        return self.server / "redis"

    def sync(self, url: str, workspace: str, dataset: str) -> Path:
        digest = hashlib.blake2b(f"{url}|{workspace}|{dataset}".encode(), digest_size=6).hexdigest()
        return self.root / "sync" / f"{workspace}.{dataset}.{digest}"


def write_private_json(path: Path, data: dict[str, Any], *, compact: bool = False) -> None:
    """Atomically write JSON readable by the owner only (the temp file is 0600 from the start).

    `compact` skips indentation: the pure-Python indenting encoder is ~10x slower than the C one, which
    matters for pull pages of a thousand records.
    """
    text = (json.dumps(data, ensure_ascii=False, separators=(",", ":")) if compact
            else json.dumps(data, indent=2, sort_keys=True))
    atomic_write_text(path, text, private=True)


def read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise AnnotationError(f"{path}: unreadable ({err}); remove it and run `alignlab annotate up` again") from None


@dataclass(frozen=True)
class Owner:
    username: str
    password: str
    api_key: str
    key_source: str  # where the key came from, for error messages (never the key itself)


class Credentials:
    """Secrets of one state folder: environment first, then the private credentials file."""

    def __init__(self, server: ServerSection, paths: Paths):
        self.server = server
        self.path = paths.root / CREDENTIALS_FILE

    def _stored(self) -> dict[str, Any]:
        return read_json(self.path)

    def _store(self, updates: dict[str, Any]) -> None:
        data = self._stored()
        data.update(updates)
        write_private_json(self.path, data)

    def owner(self, *, create: bool = False) -> Owner:
        """The owner account; with `create`, missing secrets are generated and kept in the private file."""
        stored = self._stored()
        env_key = os.environ.get(self.server.api_key_env)
        env_password = os.environ.get(self.server.password_env)
        if create:
            generated = {}
            if not env_key and "api_key" not in stored:
                generated["api_key"] = "al." + secrets.token_urlsafe(24)
            if not env_password and "password" not in stored:
                generated["password"] = secrets.token_urlsafe(12)
            if generated:
                self._store(generated)
                stored.update(generated)
        api_key = env_key or stored.get("api_key")
        password = env_password or stored.get("password")
        if api_key is None:
            raise AnnotationError(f"no API key: set ${self.server.api_key_env} (an owner key of the Argilla server), "
                                  "or start a local server with `alignlab annotate up`")
        source = f"${self.server.api_key_env}" if env_key else f"the key in {self.path}"
        return Owner(self.server.owner, password or "", api_key, source)

    def auth_secret(self) -> str:
        """The server's token-signing secret: fixed, or every restart would log everybody out."""
        stored = self._stored()
        if "auth_secret_key" not in stored:
            stored["auth_secret_key"] = secrets.token_hex(32)
            self._store({"auth_secret_key": stored["auth_secret_key"]})
        return stored["auth_secret_key"]

    def annotator_password(self, username: str) -> tuple[str, bool]:
        """(password, generated): from the environment, else the stored or a newly generated one."""
        from_env = os.environ.get(self.server.annotator_password_env)
        if from_env:
            return from_env, False
        stored = self._stored().get("annotators", {})
        if username in stored:
            return stored[username], True
        password = secrets.token_urlsafe(12)
        self._store({"annotators": {**stored, username: password}})
        return password, True


def secure_state(paths: Paths) -> str | None:
    """Make the secret-holding files 0600 and their folders 0700 (owner bits kept, group/other removed);
    one line naming what was looser, or None when everything already was private."""
    fixed = []
    for relative, is_dir in [(d, True) for d in PRIVATE_DIRS] + [(f, False) for f in PRIVATE_FILES]:
        path = paths.root / relative
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode) or stat.S_ISDIR(info.st_mode) != is_dir:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            os.chmod(path, mode & ~0o077)
            fixed.append(f"{relative if relative != '.' else '.'} {mode:04o} -> {mode & ~0o077:04o}")
    if not fixed:
        return None
    return (f"tightened permissions in {paths.root} (secrets must be private to you): {', '.join(fixed)}")


def open_state(server: ServerSection, echo=None) -> Paths:
    """The state folder of `server`, with its secrets made private first (a change is reported via `echo`)."""
    paths = Paths.of(server)
    report = secure_state(paths)
    if report and echo is not None:
        echo(report)
    return paths


def local_url(server: ServerSection) -> str:
    """The URL of the local server as configured (host and port)."""
    host = "127.0.0.1" if server.host in ("0.0.0.0", "::") else server.host
    return f"http://{host}:{server.port}"


def record_local_url(paths: Paths, url: str) -> None:
    """Remember where `annotate up` started the server, so that later commands in this folder talk to it."""
    atomic_write_text(paths.root / LOCAL_FILE, json.dumps({"url": url}, indent=2) + "\n")


def resolve_url(server: ServerSection, paths: Paths) -> str:
    """The server to talk to: `server.url`, else the one `annotate connect` chose, else the local one:
    at the host/port of this config, or, when the config leaves them at their defaults, where `annotate up`
    last started it from this state folder."""
    if server.url:
        return server.url.rstrip("/")
    connected = read_json(paths.root / CONNECTION_FILE).get("url")
    if connected:
        return connected.rstrip("/")
    recorded = read_json(paths.root / LOCAL_FILE).get("url")
    if recorded and _default_address(server):
        return str(recorded).rstrip("/")
    return local_url(server)


def recorded_local(server: ServerSection, paths: Paths) -> ServerSection:
    """`server` with the port `annotate up` last used from this state folder, when the config leaves the
    address at its defaults (so a second `up`, `down` or `status` finds the server the first one started)."""
    from urllib.parse import urlsplit

    recorded = read_json(paths.root / LOCAL_FILE).get("url")
    if not recorded or not _default_address(server):
        return server
    port = urlsplit(str(recorded)).port
    return server.model_copy(update={"port": port}) if port else server


def _default_address(server: ServerSection) -> bool:
    """True when the config leaves host and port at their defaults (overrides of other server keys spell
    the whole section out, so "left at the default" is the test, not "not mentioned")."""
    fields = type(server).model_fields
    return server.host == fields["host"].default and server.port == fields["port"].default


def api_for(server: ServerSection, *, create_credentials: bool = False, echo=None):
    """An `ArgillaAPI` for the configured server, authenticated as its owner.

    A local server (loopback URL) that is not running fails at once with one line, instead of after the
    retries meant for a server that restarts; `echo` gets the permission report and retry notices.
    """
    from alignlab.annotation.client import ArgillaAPI

    paths = open_state(server, echo)
    url = resolve_url(server, paths)
    owner = Credentials(server, paths).owner(create=create_credentials)
    check_local_server(url, paths)
    return ArgillaAPI(url, owner.api_key, key_source=owner.key_source, timeout_s=server.request_timeout_s,
                      retry_max_s=server.retry_max_s, notify=echo)


def check_local_server(url: str, paths: Paths, connect_timeout_s: float = 1.0) -> None:
    """Raise `ServerUnreachable` at once when `url` is on this machine, nothing listens there, and the
    local server of this state folder is not starting either (its recorded process is gone)."""
    import socket
    from urllib.parse import urlsplit

    from alignlab.annotation.errors import ServerUnreachable

    parts = urlsplit(url)
    if (parts.hostname or "") not in ("127.0.0.1", "localhost", "::1"):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=connect_timeout_s):
            return
    except OSError as err:
        reason = "connection refused" if isinstance(err, ConnectionRefusedError) else type(err).__name__
    from alignlab.annotation.server import processes

    if processes.find("server", paths.pids) is not None:
        return  # started but not listening yet: the client's retries wait for it
    raise ServerUnreachable(f"no Argilla server answers at {url} ({reason}) and the local server of "
                            f"{paths.root} is not running; start it with `alignlab annotate up` "
                            "(`alignlab annotate status` shows its state)")
