"""The annotation state folder and the secrets in it: where things live, and which server and key to use.

    <state_dir>/
      credentials.json   private (0600): owner API key and password, server secret, generated annotator
                         passwords. Written only for a local server; environment variables win over it.
      connection.json    the server `annotate connect URL` chose (no secrets)
      server/            the local server: argilla.db, tmp/ (its web UI copy), logs/, run/*.json (PIDs)
      sync/<key>/        resumable push ledger and pull pages, one folder per (server, workspace, dataset)

Secrets are read from the environment first (`server.api_key_env`, `server.password_env`,
`server.annotator_password_env`); they are never written to logs, run directories or outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.annotation.errors import AnnotationError
from alignlab.config.annotate import ServerSection
from alignlab.utils.io import atomic_write_text

SERVER_VERSION = "2.8.0"
CREDENTIALS_FILE = "credentials.json"
CONNECTION_FILE = "connection.json"


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


def resolve_url(server: ServerSection, paths: Paths) -> str:
    """The server to talk to: `server.url`, else the one `annotate connect` chose, else the local one."""
    if server.url:
        return server.url.rstrip("/")
    connected = read_json(paths.root / CONNECTION_FILE).get("url")
    if connected:
        return connected.rstrip("/")
    host = "127.0.0.1" if server.host in ("0.0.0.0", "::") else server.host
    return f"http://{host}:{server.port}"


def api_for(server: ServerSection, *, create_credentials: bool = False):
    """An `ArgillaAPI` for the configured server, authenticated as its owner."""
    from alignlab.annotation.client import ArgillaAPI

    paths = Paths.of(server)
    owner = Credentials(server, paths).owner(create=create_credentials)
    return ArgillaAPI(resolve_url(server, paths), owner.api_key, key_source=owner.key_source,
                      timeout_s=server.request_timeout_s, retry_max_s=server.retry_max_s)
