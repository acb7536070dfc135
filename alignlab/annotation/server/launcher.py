"""`alignlab annotate up|down|status`: a real Argilla 2.8 server on loopback, from its own environment.

    up(server)      install (once), start Redis, prepare the database and owner, start the rq worker and the
                    server, wait until it answers as healthy; restarts only what is not running
    down(server)    stop exactly the processes `up` recorded (server, worker, Redis), keep all data
    status(server)  which processes run, and whether the server answers

State lives in `server.state_dir` (see `alignlab.annotation.state`): SQLite database, Redis socket, logs,
PID records, and the private credentials file. The folder is private to the user (0700) and the server
processes run with umask 077, so the database (which holds every user's API key) is 0600 from its start;
`up` tightens and reports looser modes left by older versions, and records the URL it started the server
at (`local.json`), so that later commands from the same folder talk to that port.

Without `server.elasticsearch_url` (or $ARGILLA_ELASTICSEARCH)
the server uses alignlab's embedded search engine (`engine/sql_engine.py`), which answers from the database.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from alignlab.annotation.errors import AuthenticationFailed, ServerSetupError
from alignlab.annotation.server import install, processes
from alignlab.annotation.server import redis as redis_proc
from alignlab.annotation.state import (
    CONNECTION_FILE,
    Credentials,
    Paths,
    local_url,
    open_state,
    read_json,
    record_local_url,
    recorded_local,
    resolve_url,
    secure_state,
)
from alignlab.config.annotate import ServerSection
from alignlab.utils.io import atomic_write_json

ENGINE_DIR = Path(__file__).resolve().parent / "engine"
EMBEDDED_ENGINE = "alignlab-sql"
# Bump when `boot.py prepare` does more (e.g. new indexes), so that servers prepared before run it again.
PREPARE_VERSION = 2
PROCESSES = ("server", "worker", "redis")  # the order `down` stops them in
# Variables of our own environment that must not leak into the server's Python.
_SCRUBBED_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")


@dataclass
class ServerStatus:
    url: str
    healthy: bool
    running: dict[str, int | None] = field(default_factory=dict)  # process name -> PID (None: not running)
    engine: str | None = None
    state_dir: str = ""
    note: str = ""

    def lines(self) -> list[str]:
        state = "healthy" if self.healthy else "not answering"
        out = [f"Argilla server {self.url}: {state}" + (f" (search engine: {self.engine})" if self.engine else "")]
        for name, pid in self.running.items():
            out.append(f"  {name:7s} {'pid ' + str(pid) if pid else 'not running'}")
        out.append(f"  state   {self.state_dir}")
        if self.note:
            out.append(f"  {self.note}")
        return out


def _requirements(server: ServerSection, paths: Paths) -> list[str]:
    needs_redis = server.redis_url is None and redis_proc.redis_binary(paths.venv) is None
    postgres = bool(server.database_url and server.database_url.startswith("postgres"))
    return install.requirements_for(postgres=postgres, embedded_redis=needs_redis)


def install_server(server: ServerSection, *, echo=print) -> Path:
    """Create the server's virtual environment if needed (`annotate install`, the CI setup step)."""
    paths = Paths.of(server)
    return install.ensure_venv(paths.venv, _requirements(server, paths), echo=echo)


def _server_env(server: ServerSection, paths: Paths, redis_url: str) -> dict[str, str]:
    credentials = Credentials(server, paths)
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED_ENV}
    # Our secrets stay out of the server's environment; the owner's go only to `prepare`.
    for name in (server.api_key_env, server.password_env, server.annotator_password_env):
        env.pop(name, None)
    env.update({
        "ARGILLA_HOME_PATH": str(paths.server.resolve()),
        "ARGILLA_AUTH_SECRET_KEY": credentials.auth_secret(),
        "ARGILLA_REDIS_URL": redis_url,
        "TMPDIR": str(paths.tmp.resolve()),  # each server import copies its 14 MB web UI into a temp folder
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    })
    if server.database_url:
        env["ARGILLA_DATABASE_URL"] = server.database_url
    elasticsearch = server.elasticsearch_url or os.environ.get("ARGILLA_ELASTICSEARCH")
    if elasticsearch:
        env.update(ARGILLA_SEARCH_ENGINE="elasticsearch", ARGILLA_ELASTICSEARCH=elasticsearch)
    else:
        env["ARGILLA_SEARCH_ENGINE"] = EMBEDDED_ENGINE
    return env


def _ensure_redis(server: ServerSection, paths: Paths) -> str:
    if server.redis_url:
        if not redis_proc.ping(server.redis_url):
            raise ServerSetupError(f"server.redis_url: no Redis answers at {server.redis_url}")
        return server.redis_url
    running = processes.find("redis", paths.pids)
    url_file = paths.redis / "url"
    if running is not None and url_file.is_file() and redis_proc.ping(url_file.read_text().strip()):
        return url_file.read_text().strip()
    binary = redis_proc.redis_binary(paths.venv)
    if binary is None:
        raise ServerSetupError("no redis-server found: install Debian's `redis-server` or run "
                               "`alignlab annotate install` to add the embedded one")
    argv, url = redis_proc.redis_command(binary, paths.redis)
    (paths.redis / "redis.sock").unlink(missing_ok=True)
    process = processes.start("redis", argv, env=os.environ, pid_dir=paths.pids, log_dir=paths.logs)
    if not processes.wait_until(lambda: redis_proc.ping(url), timeout_s=20, while_alive=process):
        raise ServerSetupError(f"Redis did not start: {processes.log_tail(paths.logs, 'redis')} "
                               f"(log: {paths.logs / 'redis.log'})")
    url_file.write_text(url)
    return url


def _sqlite_state(server: ServerSection, paths: Paths, owner: str) -> dict | None:
    """(schema revision, owner present) of the local SQLite database, None when there is none to read."""
    import sqlite3

    database = paths.server / "argilla.db"
    if server.database_url or not database.is_file():
        return None
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            has_owner = connection.execute("SELECT 1 FROM users WHERE username = ?", (owner,)).fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return {"revision": revision[0] if revision else None, "owner": bool(has_owner)}


def _prepare_database(python: Path, env: dict[str, str], server: ServerSection, paths: Paths) -> None:
    """Migrate the database and create the owner, unless a previous `up` did so for this server version
    (skipping saves one import of the server, ~10 s)."""
    import subprocess

    marker = paths.server / "prepared.json"
    state = _sqlite_state(server, paths, server.owner)
    stamp = install.read_stamp(paths.venv)
    done = {"revision": state["revision"], "stamp": stamp, "version": PREPARE_VERSION} if state else None
    if state and state["owner"] and read_json(marker) == done:
        return
    owner = Credentials(server, paths).owner(create=True)
    secrets_env = {**env, "ALIGNLAB_OWNER_USERNAME": owner.username, "ALIGNLAB_OWNER_PASSWORD": owner.password,
                   "ALIGNLAB_OWNER_API_KEY": owner.api_key}
    paths.logs.mkdir(parents=True, exist_ok=True)
    with open(paths.logs / "prepare.log", "ab") as log:
        result = subprocess.run([str(python), str(ENGINE_DIR / "boot.py"), "prepare"], env=secrets_env,
                                stdout=log, stderr=subprocess.STDOUT, check=False, umask=0o077)
    if result.returncode != 0:
        raise ServerSetupError(f"preparing the Argilla database failed: {processes.log_tail(paths.logs, 'prepare')} "
                               f"(log: {paths.logs / 'prepare.log'})")
    state = _sqlite_state(server, paths, server.owner)
    if state:
        atomic_write_json(marker, {"revision": state["revision"], "stamp": stamp, "version": PREPARE_VERSION})


def up(server: ServerSection, *, echo=print) -> ServerStatus:
    """Start whatever part of the local server is not running; return once it answers as healthy."""
    if server.url:
        raise ServerSetupError(f"server.url is set ({server.url}): `annotate up` starts a local server; "
                               "unset server.url to use one")
    paths = Paths.of(server)
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = open_state(server, echo)
    server = recorded_local(server, paths)
    (paths.root / CONNECTION_FILE).unlink(missing_ok=True)  # `up` means: use the local server from now on
    python = install_server(server, echo=echo)
    url = local_url(server)
    if processes.find("server", paths.pids) is None and not redis_proc.port_is_free(server.host, server.port):
        raise ServerSetupError(f"port {server.port} on {server.host} is in use by another program; "
                               "choose another with server.port=...")
    redis_url = _ensure_redis(server, paths)
    env = _server_env(server, paths, redis_url)
    boot = str(ENGINE_DIR / "boot.py")
    if processes.find("server", paths.pids) is None:
        # Web-UI copies of earlier runs: only the running server uses one, and none runs now.
        shutil.rmtree(paths.tmp, ignore_errors=True)
        paths.tmp.mkdir(parents=True, exist_ok=True)
        _prepare_database(python, env, server, paths)
    if processes.find("worker", paths.pids) is None:
        processes.start("worker", [str(python), boot, "worker", "--num-workers", str(server.workers)],
                        env=env, pid_dir=paths.pids, log_dir=paths.logs)
    process = processes.find("server", paths.pids)
    if process is None:
        echo(f"starting the Argilla server at {url}")
        process = processes.start("server", [str(python), boot, "start", "--host", server.host, "--port",
                                             str(server.port), "--no-access-log"],
                                  env=env, pid_dir=paths.pids, log_dir=paths.logs)
    if not processes.wait_until(lambda: _answers(url), timeout_s=server.start_timeout_s, while_alive=process):
        raise ServerSetupError(f"the Argilla server did not become healthy at {url}: "
                               f"{processes.log_tail(paths.logs, 'server')} (log: {paths.logs / 'server.log'})")
    record_local_url(paths, url)
    report = secure_state(paths)  # again: the server created its database and WAL files meanwhile
    if report:
        echo(report)
    return _checked_status(server, paths, url)


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(f"{url}/api/v1/version", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _checked_status(server: ServerSection, paths: Paths, url: str) -> ServerStatus:
    """Status after a start: the owner key must work, or every later command would fail."""
    from alignlab.annotation.client import ArgillaAPI

    owner = Credentials(server, paths).owner()
    api = ArgillaAPI(url, owner.api_key, key_source=owner.key_source, timeout_s=server.request_timeout_s,
                     retry_max_s=server.retry_max_s)
    try:
        info = api.get("/api/v1/status")
    except AuthenticationFailed as err:
        raise AuthenticationFailed(f"{err}; the server's database already has owner {server.owner!r} with "
                                   f"another key (see {paths.root / 'credentials.json'})") from None
    finally:
        api.close()
    return ServerStatus(url, True, _running(paths), (info.get("search_engine") or {}).get("engine"),
                        str(paths.root))


def _running(paths: Paths) -> dict[str, int | None]:
    found = {name: processes.find(name, paths.pids) for name in PROCESSES}
    return {name: (process.pid if process else None) for name, process in found.items()}


def down(server: ServerSection) -> list[str]:
    """Stop the processes `up` started (and only those); return the names of those that were running."""
    paths = Paths.of(server)
    return [name for name in PROCESSES if processes.stop(name, paths.pids)]


def status(server: ServerSection, *, echo=print) -> ServerStatus:
    """Which local processes run, and whether the server answers (and with which search engine)."""
    from alignlab.annotation.errors import AnnotationError
    from alignlab.annotation.state import api_for

    paths = open_state(server, echo)
    url = resolve_url(server, paths)
    healthy, engine = _answers(url), None
    if healthy:
        try:
            api = api_for(server)
            engine = (api.get("/api/v1/status").get("search_engine") or {}).get("engine")
            api.close()
        except AnnotationError as err:
            engine = f"unknown: {err}"
    local = url in (local_url(server), read_json(paths.root / "local.json").get("url"))
    note = "" if local else "remote server (annotate connect); nothing runs locally"
    return ServerStatus(url, healthy, _running(paths) if local else {}, engine, str(paths.root), note)
