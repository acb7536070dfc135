"""Helpers for tests and benchmarks that run against a real Argilla server (no mocks).

    server = shared_server(tmp_root)            # one server per test session: started once, stopped at exit
    annotator = login(server, "annotator-1")    # that annotator's REST session (bearer token, as the web UI)
    queue = annotator_queue(annotator, dataset_id, limit=10)
    submit(annotator, record_id, {"preference": {"value": "a"}})

The server's virtual environment is the shared, stamped one (`alignlab annotate install`, the setup step);
everything else (database, Redis, credentials) lives in a fresh state folder, and every secret comes from
environment variables that tests never set, so a developer's own key cannot leak in.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.annotation.client import ArgillaAPI
from alignlab.annotation.server import launcher
from alignlab.annotation.server.redis import free_port
from alignlab.annotation.state import Credentials, Paths, api_for
from alignlab.config.annotate import ServerSection

# Names of environment variables no test sets: secrets then come from the state folder's private file.
_UNSET_ENV = {"api_key_env": "ALIGNLAB_TEST_UNSET_API_KEY", "password_env": "ALIGNLAB_TEST_UNSET_PASSWORD",
              "annotator_password_env": "ALIGNLAB_TEST_UNSET_ANNOTATOR_PASSWORD"}


@dataclass
class TestServer:
    server: ServerSection
    url: str
    overrides: list[str] = field(default_factory=list)  # CLI overrides that point at this server

    def owner(self) -> ArgillaAPI:
        return api_for(self.server)

    def config(self, **sections: Any) -> dict[str, Any]:
        """An AnnotateConfig dict with this server's section and the given sections."""
        return {"server": self.server.model_dump(mode="json"), **sections}

    def restart(self) -> None:
        launcher.up(self.server, echo=lambda *_: None)


def server_section(state_dir: Path, **changes: Any) -> ServerSection:
    values = {"state_dir": state_dir, "port": free_port(), "retry_max_s": 30.0, "start_timeout_s": 300.0,
              **_UNSET_ENV, **changes}
    return ServerSection(**values)


def start_server(state_dir: Path, **changes: Any) -> TestServer:
    server = server_section(state_dir, **changes)
    status = launcher.up(server, echo=lambda *_: None)
    overrides = [f"server.{key}={value}" for key, value in server.model_dump(mode="json").items()
                 if value is not None and key in ("state_dir", "port", "venv_dir", *_UNSET_ENV)]
    return TestServer(server, status.url, overrides)


_SHARED: TestServer | None = None


def shared_server(root: Path) -> TestServer:
    """The session's server, started on first use under `root` and stopped when the process exits."""
    global _SHARED
    if _SHARED is None:
        _SHARED = start_server(root / "argilla-state")
        atexit.register(stop_shared_server)
    return _SHARED


def stop_shared_server() -> None:
    global _SHARED
    if _SHARED is not None:
        launcher.down(_SHARED.server)
        _SHARED = None


def login(test_server: TestServer, username: str) -> ArgillaAPI:
    """A REST session as an annotator created by a push (password from the state folder's private file)."""
    password, _ = Credentials(test_server.server, Paths.of(test_server.server)).annotator_password(username)
    return ArgillaAPI.login(test_server.url, username, password, retry_max_s=10.0)


def annotator_queue(api: ArgillaAPI, dataset_id: str, *, limit: int = 10, offset: int = 0) -> dict:
    """The annotator's pending records, as the web UI asks for them."""
    body = {"query": {}, "filters": {"and": [
        {"type": "terms", "scope": {"entity": "response", "property": "status"}, "values": ["pending"]},
        {"type": "terms", "scope": {"entity": "record", "property": "status"}, "values": ["pending"]}]}}
    return api.post(f"/api/v1/me/datasets/{dataset_id}/records/search?include=responses"
                    f"&offset={offset}&limit={limit}", body)


def submit(api: ArgillaAPI, record_id: str, values: dict[str, Any], status: str = "submitted") -> dict:
    """One response through the REST API. A discarded response is sent with `{}`, never `null` (a null breaks
    every later read of the dataset in argilla 2.8)."""
    return api.post(f"/api/v1/records/{record_id}/responses", {"values": values or {}, "status": status})


def dataset_of(test_server: TestServer, name: str, workspace: str = "alignlab") -> dict:
    from alignlab.annotation.workspace import require_dataset

    api = test_server.owner()
    try:
        return require_dataset(api, workspace, name)[1]
    finally:
        api.close()


def records_by_external_id(api: ArgillaAPI, dataset_id: str) -> dict[str, dict]:
    """Every record of a dataset (owner's view, with responses), keyed by external id."""
    out: dict[str, dict] = {}
    offset = 0
    while True:
        page = api.get(f"/api/v1/datasets/{dataset_id}/records?include=responses&offset={offset}&limit=1000")
        for record in page["items"]:
            out[record["external_id"]] = record
        if len(page["items"]) < 1000:
            return out
        offset += 1000


def user_id(api: ArgillaAPI, username: str) -> str:
    return next(u["id"] for u in api.get("/api/v1/users")["items"] if u["username"] == username)


def seed_responses(api: ArgillaAPI, dataset_id: str, answers: list[tuple[str, str, dict, str]],
                   batch: int = 250) -> None:
    """Owner-side bulk upsert of responses (external id, user id, values, status): fast set-up for pull tests
    and benchmarks; annotators' own submissions go through `submit`."""
    grouped: dict[str, list[dict]] = {}
    for ext, uid, values, status in answers:
        grouped.setdefault(ext, []).append({"user_id": uid, "values": values, "status": status})
    items = [{"external_id": ext, "responses": responses} for ext, responses in grouped.items()]
    for start in range(0, len(items), batch):
        api.put(f"/api/v1/datasets/{dataset_id}/records/bulk", {"items": items[start:start + batch]})
