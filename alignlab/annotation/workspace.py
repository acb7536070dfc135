"""Workspaces, annotator accounts and datasets on an Argilla server, made idempotent.

Every `ensure_*` can be re-run, and survives a retry after a lost answer: a create that reports "already
exists" is answered by reading the thing back. A dataset that exists must have the template's fields,
questions and metadata (`DatasetConflict` names the first difference otherwise); a draft left by an
interrupted creation is completed and published.
"""

from __future__ import annotations

from typing import Any

from alignlab.annotation.client import ApiError, ArgillaAPI
from alignlab.annotation.errors import AnnotationError, DatasetConflict

_ALREADY = (409, 422)
MARKER = "alignlab"  # key of the template marker in a dataset's metadata


def find_workspace(api: ArgillaAPI, name: str) -> dict | None:
    return next((w for w in api.get("/api/v1/me/workspaces")["items"] if w["name"] == name), None)


def ensure_workspace(api: ArgillaAPI, name: str) -> dict:
    found = find_workspace(api, name)
    if found is not None:
        return found
    try:
        return api.post("/api/v1/workspaces", {"name": name})
    except ApiError as err:
        if err.status in _ALREADY and (found := find_workspace(api, name)) is not None:
            return found
        raise


def users_by_id(api: ArgillaAPI) -> dict[str, dict]:
    return {user["id"]: user for user in api.get("/api/v1/users")["items"]}


def workspace_member_ids(api: ArgillaAPI, workspace_id: str) -> set[str]:
    return {user["id"] for user in api.get(f"/api/v1/workspaces/{workspace_id}/users")["items"]}


def ensure_annotators(api: ArgillaAPI, workspace_id: str, usernames: list[str], password_for) -> list[str]:
    """Create missing annotator accounts and add everyone to the workspace; return the new usernames.

    `password_for(username)` gives the initial password of a new account.
    """
    known = {user["username"]: user for user in users_by_id(api).values()}
    members = workspace_member_ids(api, workspace_id)
    created = []
    for username in usernames:
        user = known.get(username)
        if user is None:
            payload = {"first_name": username, "username": username, "role": "annotator",
                       "password": password_for(username)}
            try:
                user = api.post("/api/v1/users", payload)
            except ApiError as err:
                user = {u["username"]: u for u in users_by_id(api).values()}.get(username)
                if err.status not in _ALREADY or user is None:
                    raise
            created.append(username)
        if user["id"] not in members:
            try:
                api.post(f"/api/v1/workspaces/{workspace_id}/users", {"user_id": user["id"]})
            except ApiError as err:
                if err.status not in _ALREADY:
                    raise
    return created


def find_dataset(api: ArgillaAPI, workspace_id: str, name: str) -> dict | None:
    datasets = api.get("/api/v1/me/datasets")["items"]
    return next((d for d in datasets if d["name"] == name and d["workspace_id"] == workspace_id), None)


def dataset_settings(api: ArgillaAPI, dataset_id: str) -> dict[str, list[dict]]:
    """The dataset's fields, questions and metadata properties as the server has them."""
    return {
        "fields": api.get(f"/api/v1/datasets/{dataset_id}/fields")["items"],
        "questions": api.get(f"/api/v1/datasets/{dataset_id}/questions")["items"],
        "metadata": api.get(f"/api/v1/me/datasets/{dataset_id}/metadata-properties")["items"],
    }


def _shape(kind: str, entry: dict) -> tuple:
    settings = entry.get("settings") or {}
    options = tuple(str(option.get("value")) for option in settings.get("options") or ())
    return (entry["name"], settings.get("type"), options if kind == "questions" else ())


def _describe(shapes) -> str:
    return ", ".join(f"{name} ({kind}{': ' + '/'.join(options) if options else ''})"
                     for name, kind, options in sorted(shapes)) or "none"


def settings_difference(expected: dict[str, list[dict]], actual: dict[str, list[dict]]) -> str | None:
    """The first way the server's fields/questions differ from the template's (metadata: types only)."""
    for kind in ("fields", "questions"):
        want = {_shape(kind, e) for e in expected[kind]}
        have = {_shape(kind, e) for e in actual[kind]}
        if want != have:
            return f"{kind} differ (server: {_describe(have)}; template: {_describe(want)})"
    have_meta = {e["name"]: (e.get("settings") or {}).get("type") for e in actual["metadata"]}
    for entry in expected["metadata"]:
        kind = entry["settings"]["type"]
        if entry["name"] in have_meta and have_meta[entry["name"]] != kind:
            return f"metadata property {entry['name']!r} is {have_meta[entry['name']]} on the server, {kind} here"
    return None


def ensure_dataset(api: ArgillaAPI, workspace: dict, section, expected: dict[str, Any],
                   marker: dict[str, Any]) -> tuple[dict, bool]:
    """The published dataset for `section` with the `expected` settings; (dataset, created).

    `marker` (template name, display-order seed) is stored in the dataset's metadata when it is created and
    must match on later pushes: another seed would reorder the responses under answers already given.
    """
    dataset = find_dataset(api, workspace["id"], section.name)
    created = dataset is None
    if created:
        payload = {"name": section.name, "workspace_id": workspace["id"], "guidelines": expected["guidelines"],
                   "allow_extra_metadata": True, "metadata": {MARKER: marker},
                   "distribution": {"strategy": "overlap", "min_submitted": section.min_submitted}}
        try:
            dataset = api.post("/api/v1/datasets", payload)
        except ApiError as err:
            dataset = find_dataset(api, workspace["id"], section.name)
            if err.status not in _ALREADY or dataset is None:
                raise
    actual = dataset_settings(api, dataset["id"])
    if dataset["status"] == "draft":
        _complete_draft(api, dataset["id"], expected, actual)
        actual = dataset_settings(api, dataset["id"])
    where = f"dataset {section.name!r} in workspace {workspace['name']!r} at {api.url}"
    stored = (dataset.get("metadata") or {}).get(MARKER)
    difference = settings_difference(expected, actual) or _marker_difference(stored, marker)
    if difference:
        raise DatasetConflict(f"{where} already exists with other settings: {difference}; choose another "
                              "dataset.name or delete that dataset in Argilla")
    _add_missing(api, dataset["id"], "metadata-properties", expected["metadata"], actual["metadata"])
    if dataset["status"] == "draft":
        dataset = api.put(f"/api/v1/datasets/{dataset['id']}/publish")
    return _update_options(api, dataset, section, expected, where), created


_MARKER_KEYS = {"template": "dataset.template", "seed": "push.seed"}


def _marker_difference(stored: dict | None, marker: dict[str, Any]) -> str | None:
    if not stored:
        return None
    for key, value in marker.items():
        if key in stored and stored[key] != value:
            name = _MARKER_KEYS.get(key, key)
            return f"it was pushed with {name}={stored[key]} (this push: {value})"
    return None


def _add_missing(api: ArgillaAPI, dataset_id: str, path: str, wanted: list[dict], present: list[dict]) -> None:
    names = {entry["name"] for entry in present}
    for entry in wanted:
        if entry["name"] not in names:
            try:
                api.post(f"/api/v1/datasets/{dataset_id}/{path}", entry)
            except ApiError as err:
                if err.status not in _ALREADY:
                    raise


def _complete_draft(api: ArgillaAPI, dataset_id: str, expected: dict, actual: dict) -> None:
    _add_missing(api, dataset_id, "fields", expected["fields"], actual["fields"])
    _add_missing(api, dataset_id, "questions", expected["questions"], actual["questions"])


def _update_options(api: ArgillaAPI, dataset: dict, section, expected: dict, where: str) -> dict:
    """Guidelines and overlap may change on a live dataset; the server refuses what it cannot change."""
    changes: dict[str, Any] = {}
    if dataset.get("guidelines") != expected["guidelines"]:
        changes["guidelines"] = expected["guidelines"]
    if (dataset.get("distribution") or {}).get("min_submitted") != section.min_submitted:
        changes["distribution"] = {"strategy": "overlap", "min_submitted": section.min_submitted}
    if not changes:
        return dataset
    try:
        return api.patch(f"/api/v1/datasets/{dataset['id']}", changes)
    except ApiError as err:
        raise DatasetConflict(f"{where}: cannot change {', '.join(changes)} ({err}); keep the old value "
                              "or use another dataset.name") from None


def question_ids(api: ArgillaAPI, dataset_id: str) -> dict[str, str]:
    return {q["name"]: q["id"] for q in api.get(f"/api/v1/datasets/{dataset_id}/questions")["items"]}


def require_dataset(api: ArgillaAPI, workspace_name: str, name: str) -> tuple[dict, dict]:
    """(workspace, dataset) that must exist (pull, status)."""
    workspace = find_workspace(api, workspace_name)
    if workspace is None:
        raise AnnotationError(f"{api.url}: no workspace {workspace_name!r}; push records first "
                              "(`alignlab annotate push`) or fix dataset.workspace")
    dataset = find_dataset(api, workspace["id"], name)
    if dataset is None:
        raise AnnotationError(f"{api.url}: no dataset {name!r} in workspace {workspace_name!r}; push records "
                              "first or fix dataset.name")
    return workspace, dataset
