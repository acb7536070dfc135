"""`alignlab annotate push`: records -> an Argilla dataset built from a template, idempotently and resumably.

    summary = push(config)      # AnnotateConfig with dataset + push sections

1. Read and validate the input (canonical preference records or candidates rows; a bad row stops the push
   with `file:line: field: reason` before anything is sent).
2. Ensure the workspace, the annotator accounts (members of the workspace) and the dataset (same settings
   as the template, or a `DatasetConflict`).
3. Send the records in batches with bulk *upserts* keyed by a deterministic external id: sending a record
   twice updates it in place, never duplicates it, and keeps every response already given to it.
4. Record the digest of every confirmed record in a ledger (`<state>/sync/.../push-ledger.jsonl`): a push
   re-run sends only records that are new or changed, so an interrupted push resumes where it stopped. A
   batch the server committed but could not confirm (killed mid-answer) is simply upserted again.

Answers are never attached to text nobody saw. Every record carries a content hash of its fields (what
annotators see) in its hidden metadata; before sending, the push compares it with the answered records on
the server (submitted, discarded or draft responses). A record whose text changed under a known id is
reported and, per `push.on_changed`, either published as a new version `<id>@<hash>` (the default: the old
record keeps its text and its answers, the new one goes to the annotators' queue, and the pull writes each
answer with the text it was given to), or the push stops with one line before anything is sent. The default
follows what an Argilla user expects of a push: the new data lands and nothing already answered is lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from alignlab.annotation.state import Credentials, Paths, api_for, resolve_url
from alignlab.annotation.templates import TEMPLATES, Template
from alignlab.annotation.templates.base import Item, check_candidates, content_hash, detect_format, item_from
from alignlab.annotation.workspace import ensure_annotators, ensure_dataset, ensure_workspace, question_ids
from alignlab.config.annotate import AnnotateConfig
from alignlab.errors import ConfigError, DataError
from alignlab.utils.progress import StepProgress

LEDGER = "push-ledger.jsonl"


@dataclass
class PushSummary:
    url: str
    workspace: str
    dataset: str
    dataset_id: str
    records: int  # Argilla records the input makes
    sent: int  # sent by this call
    skipped: int  # confirmed by an earlier call (ledger)
    created: bool
    new_annotators: list[str] = field(default_factory=list)
    password_file: str | None = None
    seconds: float = 0.0
    versioned: dict[str, str] = field(default_factory=dict)  # changed answered record -> its new version

    @property
    def annotation_url(self) -> str:
        return f"{self.url}/dataset/{self.dataset_id}/annotation-mode"

    def lines(self) -> list[str]:
        verb = "created" if self.created else "updated"
        out = [f"dataset {self.dataset!r} ({verb}) in workspace {self.workspace!r}: {self.records} records; "
               f"sent {self.sent}, already there {self.skipped} ({self.seconds:.1f} s)",
               f"annotators open: {self.annotation_url}"]
        if self.versioned:
            shown = ", ".join(f"{old} -> {new}" for old, new in list(self.versioned.items())[:3])
            more = f" and {len(self.versioned) - 3} more" if len(self.versioned) > 3 else ""
            out.append(f"{len(self.versioned)} answered records changed text: published as new versions "
                       f"({shown}{more}); their answers stay with the old text")
        if self.new_annotators:
            where = f" (initial passwords in {self.password_file}, readable by you only)" if self.password_file else ""
            out.append(f"new annotator accounts: {', '.join(self.new_annotators)}{where}")
        return out


def read_items(config: AnnotateConfig, template: Template) -> list[Item]:
    """Validated input items, in file order, without repeats of the same id."""
    from alignlab.data.io import RowError, iter_rows
    from alignlab.data.validation import RowChecker

    path, dataset = config.push.path, config.dataset
    if not path:
        raise ConfigError("push.path: required key is missing (the records to annotate)")
    fmt = config.push.format
    checker = None
    items, seen = [], set()
    for line, row in iter_rows(path):
        where = f"{path}:{line}"
        if isinstance(row, RowError):
            raise DataError(f"{where}: {row.field}: {row.reason}")
        if fmt == "auto":
            fmt = detect_format(row) or "candidates"
        if fmt != "candidates":
            checker = checker or RowChecker(fmt, attributes=dataset.attributes, scale=dataset.scale)
            problems = checker.check(row, line)
            if problems:
                raise DataError(f"{where}: {problems[0][0]}: {problems[0][1]}")
        else:
            check_candidates(row, where)
        if fmt not in template.inputs:
            raise DataError(f"{where}: the {template.name} template takes {', '.join(template.inputs)} rows, "
                            f"not {fmt} (set push.format or pick another dataset.template)")
        item = item_from(row, fmt, where)
        template.check_input(item, where)
        if item.id not in seen:
            seen.add(item.id)
            items.append(item)
        if config.push.limit and len(items) >= config.push.limit:
            break
    if not items:
        raise DataError(f"{path}: no records to push")
    return items


def _with_content(payload: dict, external_id: str | None = None) -> dict:
    """The payload with its content hash in the hidden metadata (and another external id for a version)."""
    from alignlab.annotation.templates.base import HIDDEN_KEY, read_hidden_info

    metadata = dict(payload.get("metadata") or {})
    info = read_hidden_info(metadata)
    info["content"] = content_hash(payload["fields"])
    if external_id is not None:
        info["version_of"] = payload["external_id"]
    metadata[HIDDEN_KEY] = json.dumps(info, ensure_ascii=False, separators=(",", ":"))
    return {**payload, "metadata": metadata, "external_id": external_id or payload["external_id"]}


def answered_contents(api, dataset_id: str, page_size: int = 1000) -> dict[str, str]:
    """external id -> content hash of every record someone answered (submitted, discarded or draft)."""
    body = {"filters": {"and": [{"type": "terms", "scope": {"entity": "response", "property": "status"},
                                 "values": ["submitted", "discarded", "draft"]}]},
            "sort": [{"scope": {"entity": "record", "property": "inserted_at"}, "order": "asc"}]}
    out: dict[str, str] = {}
    offset, total = 0, None
    while total is None or offset < total:
        page = api.post(f"/api/v1/datasets/{dataset_id}/records/search?offset={offset}&limit={page_size}", body)
        total = page["total"]
        for item in page["items"]:
            record = item["record"]
            out[record.get("external_id") or record["id"]] = content_hash(record.get("fields") or {})
        if not page["items"]:
            break
        offset += len(page["items"])
    return out


def stale_versions(api, dataset_id: str, ready: list[dict], todo: list[int], policy: str,
                   where: str) -> dict[str, str]:
    """Records of `todo` whose text changed after they were answered: old id -> new version id. With
    policy "refuse" a change stops the push (`AnnotationError`) before anything is sent."""
    from alignlab.annotation.errors import AnnotationError

    answered = answered_contents(api, dataset_id) if todo else {}
    changed = {}
    for i in todo:
        ext = ready[i]["external_id"]
        shown = answered.get(ext)
        new = content_hash(ready[i]["fields"])
        if shown is not None and shown != new:
            changed[ext] = f"{ext}@{new[:10]}"
    if changed and policy == "refuse":
        names = ", ".join(repr(ext) for ext in list(changed)[:3]) + (" ..." if len(changed) > 3 else "")
        raise AnnotationError(
            f"{where}: {len(changed)} records changed text after annotators answered them ({names}); nothing "
            "was sent. Set push.on_changed=new_version to publish the new text as new records (the answers stay "
            "with the old text), or push the text that was answered")
    return changed


def record_digest(payload: dict) -> str:
    """What a record is (id, texts, metadata, suggestions): equal digests need not be sent again."""
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.blake2b(encoded, digest_size=12).hexdigest()


def _with_question_ids(payload: dict, ids: dict[str, str]) -> dict:
    suggestions = []
    for entry in payload.get("suggestions") or []:
        entry = dict(entry)
        entry["question_id"] = ids[entry.pop("question_name")]
        suggestions.append({key: value for key, value in entry.items() if value is not None})
    return {**payload, "suggestions": suggestions}


class Ledger:
    """Records the server confirmed, by digest: an append-only JSONL file, one line per confirmed batch.

    The first line names the dataset id; a ledger of another dataset (deleted and re-created) is discarded.
    A line torn by a crash is ignored, so its batch counts as unconfirmed and is upserted again.
    """

    def __init__(self, path: Path, dataset_id: str):
        self.path = path
        self.done: set[str] = set()
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        header = _json_or_none(lines[0]) if lines else None
        if header == {"dataset_id": dataset_id}:
            for line in lines[1:]:
                entry = _json_or_none(line)
                if entry:
                    self.done.update(entry.get("confirmed", []))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"dataset_id": dataset_id}) + "\n", encoding="utf-8")

    def confirm(self, digests: list[str]) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"confirmed": digests}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.done.update(digests)


def _json_or_none(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def push(config: AnnotateConfig, *, echo=print) -> PushSummary:
    """Push `config.push.path` into the dataset `config.dataset` (see the module docstring)."""
    if config.dataset is None:
        raise ConfigError("dataset: required section is missing (name, template, ...)")
    started = time.monotonic()
    section = config.dataset
    template = TEMPLATES.get(section.template)()
    items = read_items(config, template)
    payloads = [p for item in items for p in template.records(item, section, config.push.seed)]
    paths = Paths.of(config.server)
    credentials = Credentials(config.server, paths)
    api = api_for(config.server, echo=echo)
    try:
        workspace = ensure_workspace(api, section.workspace)
        new_users = ensure_annotators(api, workspace["id"], config.annotators,
                                      lambda name: credentials.annotator_password(name)[0])
        marker = {"template": template.name, "seed": config.push.seed}
        dataset, created = ensure_dataset(api, workspace, section, template.settings(section, items), marker)
        ids = question_ids(api, dataset["id"])
        url = resolve_url(config.server, paths)
        ledger = Ledger(paths.sync(url, section.workspace, section.name) / LEDGER, dataset["id"])
        ready = [_with_content(_with_question_ids(p, ids)) for p in payloads]
        todo = [i for i, p in enumerate(ready) if record_digest(p) not in ledger.done]
        versioned = {} if created else stale_versions(
            api, dataset["id"], ready, todo, config.push.on_changed,
            f"dataset {section.name!r} in workspace {section.workspace!r}")
        for i in todo:
            if ready[i]["external_id"] in versioned:
                ready[i] = _with_content(ready[i], versioned[ready[i]["external_id"]])
        digests = [record_digest(p) for p in ready]
        todo = [i for i in todo if digests[i] not in ledger.done]  # a version sent by an earlier push
        size = config.push.batch_size
        with StepProgress(len(todo), "push records", echo, bar=None if len(todo) > size else False) as bar:
            for start in range(0, len(todo), size):
                chunk = todo[start:start + size]
                _send(api, dataset["id"], [ready[i] for i in chunk])
                ledger.confirm([digests[i] for i in chunk])
                bar.advance(len(chunk))
        sent, skipped = len(todo), len(ready) - len(todo)
    finally:
        api.close()
    generated = bool(new_users) and not _password_from_env(config)
    return PushSummary(url, section.workspace, section.name, dataset["id"], len(payloads), sent, skipped, created,
                       new_users, str(credentials.path) if generated else None,
                       time.monotonic() - started, versioned)


def _password_from_env(config: AnnotateConfig) -> bool:
    return bool(os.environ.get(config.server.annotator_password_env))


def _send(api, dataset_id: str, batch: list[dict]) -> None:
    from alignlab.annotation.client import ApiError

    try:
        api.put(f"/api/v1/datasets/{dataset_id}/records/bulk", {"items": batch})
    except ApiError as err:
        if err.status != 422:
            raise
        raise DataError(f"the server refused record {_refused(err, batch)}: {err}") from None


def _refused(err, batch: list[dict]) -> str:
    """The external id of the record a 422 answer names ("Record at position N is not valid ...")."""
    import re

    match = re.search(r"position (\d+)", str(err))
    if match and int(match.group(1)) < len(batch):
        return repr(batch[int(match.group(1))]["external_id"])
    return "in a batch"
