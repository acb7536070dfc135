"""`alignlab annotate pull`: answered Argilla records -> canonical preference data, agreement, TRL rows.

    summary = pull(config)

Writes to `pull.output_dir`, each file atomically. One rule for every template: a relative path, and the
default `preference_data/annotated/<dataset>/`, are relative to the working folder (where the command
runs, as `push.path` is), never to the alignlab installation:

    records.jsonl     canonical records in the template's output format (pairwise / ranking / ratings /
                      unpaired) with `agreement`, `annotators` and soft labels in `metadata`
    trl.jsonl         the same as TRL rows (rankings expanded to pairs, ratings paired by helpfulness)
    annotations.jsonl every response: record, annotator, status, answers (raw, as Argilla stores them) and
                      `content`, the hash of the text that annotator was shown (see `push`: a record whose
                      text changed after it was answered is a new version, with its own id and answers)
    agreement.json    dataset agreement per measure, per-annotator statistics, human win rates, counts
    SOURCE.md         where the data came from (server, workspace, dataset, template, time)

Only records with a submitted or discarded response are read, in pages of `pull.page_size`: from a local
server through its bulk read (`server/engine/export.py`, several times faster), from any other Argilla
server through the records search, ordered by insertion. Pages are cached under the state folder while the
dataset does not change (its `last_activity_at`), so an interrupted pull resumes where it stopped; a pull
during which annotators answered is redone, so the output is one snapshot. The cache is removed once the
outputs are written.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alignlab.annotation.errors import RemovedAnnotator
from alignlab.annotation.state import Paths, api_for, read_json, resolve_url, write_private_json
from alignlab.annotation.stats import annotator_stats, dataset_agreement, human_win_rates
from alignlab.annotation.templates import TEMPLATES
from alignlab.annotation.templates.base import Annotation, Judged, content_hash, read_hidden_info
from alignlab.annotation.workspace import require_dataset, users_by_id, workspace_member_ids
from alignlab.config.annotate import AnnotateConfig
from alignlab.errors import ConfigError
from alignlab.utils.progress import StepProgress

SEARCH_BODY = {
    "filters": {"and": [{"type": "terms", "scope": {"entity": "response", "property": "status"},
                         "values": ["submitted", "discarded"]}]},
    "sort": [{"scope": {"entity": "record", "property": "inserted_at"}, "order": "asc"}],
}
CACHE_VERSION = 1


@dataclass
class PullSummary:
    output_dir: str
    output_format: str
    pulled: int  # records with at least one response
    written: int
    undecided: int  # ties or no usable answer
    too_few: int  # below pull.min_responses
    responses: int
    annotators: int
    agreement: dict[str, dict[str, Any]] = field(default_factory=dict)
    win_rates: list[dict[str, Any]] = field(default_factory=list)
    pages_fetched: int = 0
    pages_cached: int = 0
    retries: int = 0  # transient errors retried (server restarted, connection reset)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"pulled {self.pulled} answered records ({self.responses} responses by {self.annotators} annotators) "
               f"in {self.seconds:.1f} s; wrote {self.written} {self.output_format} records to {self.output_dir}"
               + (f" ({self.undecided} undecided, {self.too_few} with too few responses left out)"
                  if self.undecided or self.too_few else "")
               + (f"; {self.pages_cached} pages from an interrupted pull" if self.pages_cached else "")]
        for name, stats in self.agreement.items():
            shown = {k: v for k, v in stats.items() if k.startswith(("krippendorff", "fleiss", "cohen_kappa"))
                     and not k.endswith("pairs") and v is not None}
            if shown:
                out.append(f"agreement on {name}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
        for rate in self.win_rates:
            out.append(f"human win rate {rate['model']} vs {rate['opponent']}: {rate['win_rate']:.3f} "
                       f"[{rate['ci_low']:.3f}, {rate['ci_high']:.3f}] over {rate['records']} prompts")
        return out


class PageCache:
    """Fetched pages of one dataset, valid while the dataset's `last_activity_at` is unchanged."""

    def __init__(self, folder: Path, dataset: dict, page_size: int, source: str = "search"):
        self.folder = folder
        self.key = {"version": CACHE_VERSION, "dataset_id": dataset["id"], "page_size": page_size,
                    "source": source, "last_activity_at": dataset.get("last_activity_at")}
        if read_json(folder / "state.json") != self.key:
            shutil.rmtree(folder, ignore_errors=True)

    def get(self, offset: int) -> dict | None:
        stored = read_json(self.folder / f"page-{offset:09d}.json")
        return stored or None

    def put(self, offset: int, page: dict) -> None:
        if not (self.folder / "state.json").is_file():
            write_private_json(self.folder / "state.json", self.key)
        write_private_json(self.folder / f"page-{offset:09d}.json", page, compact=True)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _slim(item: dict) -> dict:
    record = item["record"]
    return {"id": record["id"], "external_id": record.get("external_id"), "fields": record.get("fields") or {},
            "metadata": record.get("metadata") or {},
            "responses": [{"user_id": r["user_id"], "status": r["status"], "values": r.get("values") or {}}
                          for r in record.get("responses") or []]}


def _page(api, dataset_id: str, cache: PageCache, offset: int, page_size: int) -> tuple[dict, bool]:
    """(page, fetched now) for one offset: from the cache, or from the server and then cached."""
    page = cache.get(offset)
    if page is not None:
        return page, False
    answer = api.post(f"/api/v1/datasets/{dataset_id}/records/search?include=responses"
                      f"&offset={offset}&limit={page_size}", SEARCH_BODY)
    page = {"total": answer["total"], "items": [_slim(item) for item in answer["items"]]}
    cache.put(offset, page)
    return page, True


def fetch_answered(api, dataset: dict, cache: PageCache, page_size: int,
                   workers: int = 1, bar: StepProgress | None = None) -> tuple[list[dict], int, int]:
    """Every record with a submitted or discarded response, through the records search every Argilla server
    has: (records, pages fetched, pages from cache).

    The first page gives the total; the others are fetched `workers` at a time, each thread with its own
    connection. That helps a deployment running several server workers; the local server is one process,
    and measured no faster with two requests in flight.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    first, fresh = _page(api, dataset["id"], cache, 0, page_size)
    pages, fetched = [first], int(fresh)
    if bar is not None:
        bar.set_total(max(1, -(-first["total"] // page_size)))
        bar.advance()
    local, clones = threading.local(), []

    def one(offset: int) -> tuple[dict, bool]:
        if not hasattr(local, "api"):
            local.api = api.clone()
            clones.append(local.api)
        return _page(local.api, dataset["id"], cache, offset, page_size)

    try:
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for page, fresh in pool.map(one, range(page_size, first["total"], page_size)):
                pages.append(page)
                fetched += fresh
                if bar is not None:
                    bar.advance()
    finally:
        for clone in clones:
            clone.close()
    records = {record["id"]: record for page in pages for record in page["items"]}  # dedupe across pages
    return list(records.values()), fetched, len(pages) - fetched


def fetch_answered_fast(api, dataset: dict, cache: PageCache, page_size: int,
                        bar: StepProgress | None = None) -> tuple[list[dict], int, int] | None:
    """The same records through the local server's bulk read (`server/engine/export.py`), page by page on a
    rowid cursor; None when the server has no such endpoint (any other Argilla deployment)."""
    records: dict[str, dict] = {}
    fetched = cached = 0
    cursor: int | None = 0
    while cursor is not None:
        page = cache.get(cursor)
        if page is None:
            page = api.request("GET", f"/api/v1/alignlab/datasets/{dataset['id']}/answered"
                                      f"?after={cursor}&limit={page_size}", not_found_ok=True)
            if page is None:
                return None
            cache.put(cursor, page)
            fetched += 1
        else:
            cached += 1
        records.update((record["id"], record) for record in page["items"])
        cursor = page["next"]
        if bar is not None:
            bar.advance()
    return list(records.values()), fetched, cached


def _consistent_fetch(api, dataset: dict, folder: Path, options, attempts: int = 3, echo=print):
    """Fetch until no answer changed during the fetch (the dataset's `last_activity_at` is the same before
    and after), so that the pages form one snapshot; then (records, fetched, cached, cache). `echo` gets the
    pages' progress (a bar on a terminal, periodic lines elsewhere)."""
    page_size, fast = options.page_size, options.bulk_read
    for _ in range(attempts):
        cache = PageCache(folder, dataset, page_size, "export" if fast else "search")
        result = None
        if fast:
            with StepProgress(None, "pull pages", echo) as bar:
                result = fetch_answered_fast(api, dataset, cache, page_size, bar)
        if result is None:
            fast = False
            cache = PageCache(folder, dataset, page_size, "search")
            with StepProgress(None, "pull pages", echo) as bar:
                result = fetch_answered(api, dataset, cache, page_size, options.workers, bar)
        raw, fetched, cached = result
        after = api.get(f"/api/v1/datasets/{dataset['id']}")
        if after.get("last_activity_at") == dataset.get("last_activity_at"):
            break
        dataset = after  # annotators answered meanwhile: the new key discards the stale pages
    return raw, fetched, cached, cache


def _allowed_users(api, config: AnnotateConfig, workspace: dict, users: dict[str, dict]) -> set[str]:
    """Who may answer: the configured annotators (or, without a list, the workspace members) and owners."""
    managers = {u["username"] for u in users.values() if u.get("role") in ("owner", "admin")}
    if config.annotators:
        return set(config.annotators) | managers
    members = workspace_member_ids(api, workspace["id"])
    return {users[i]["username"] for i in members if i in users} | managers


def to_judged(raw: list[dict], users: dict[str, dict], allowed: set[str], policy: str,
              where: str) -> list[Judged]:
    """Pulled records as `Judged`, with responses by removed annotators handled by `policy`."""
    removed: dict[str, int] = {}
    judged = []
    for record in raw:
        annotations = []
        for response in record["responses"]:
            user = users.get(response["user_id"], {}).get("username") or f"deleted-user-{response['user_id'][:8]}"
            if user not in allowed:
                removed[user] = removed.get(user, 0) + 1
                if policy == "skip":
                    continue
            annotations.append(Annotation(user, response["status"], response["values"] or {}))
        metadata = record.get("metadata") or {}
        visible = {k: v for k, v in metadata.items() if k != "alignlab"}
        judged.append(Judged(record.get("external_id") or record["id"], read_hidden_info(metadata),
                             record.get("fields") or {}, annotations, visible))
    if removed and policy == "error":
        who = ", ".join(f"{user!r} ({count})" for user, count in sorted(removed.items()))
        raise RemovedAnnotator(f"{where}: responses by users who are no longer annotators: {who}; set "
                               "pull.removed_annotators=skip to leave them out or =keep to count them")
    return judged


def pull(config: AnnotateConfig, *, echo=print) -> PullSummary:
    """Pull the answers of `config.dataset` and write the outputs (see the module docstring)."""
    if config.dataset is None:
        raise ConfigError("dataset: required section is missing (name, workspace, template)")
    started = time.monotonic()
    section, options = config.dataset, config.pull
    template = TEMPLATES.get(section.template)()
    paths = Paths.of(config.server)
    api = api_for(config.server, echo=echo)
    try:
        workspace, dataset = require_dataset(api, section.workspace, section.name)
        users = users_by_id(api)
        allowed = _allowed_users(api, config, workspace, users)
        url = resolve_url(config.server, paths)
        folder = paths.sync(url, section.workspace, section.name) / "pull"
        raw, fetched, cached, cache = _consistent_fetch(api, dataset, folder, options, echo=echo)
        retries = api.retries
    finally:
        api.close()
    where = f"dataset {section.name!r} in workspace {section.workspace!r}"
    judged = to_judged(raw, users, allowed, options.removed_annotators, where)
    summary = _write_outputs(config, template, judged, url)
    summary.pages_fetched, summary.pages_cached, summary.retries = fetched, cached, retries
    summary.seconds = time.monotonic() - started
    cache.clear()
    return summary


def output_dir(config: AnnotateConfig) -> Path:
    """Where the pull writes: `pull.output_dir`, else preference_data/annotated/<dataset>, relative to the
    working folder."""
    chosen = config.pull.output_dir or Path("preference_data") / "annotated" / config.dataset.name
    return Path.cwd() / chosen.expanduser()


def _write_outputs(config: AnnotateConfig, template, judged: list[Judged], url: str) -> PullSummary:
    from alignlab.data.io import write_jsonl
    from alignlab.data.trl_format import to_trl_rows
    from alignlab.utils.io import atomic_write_json, atomic_write_text

    section, options = config.dataset, config.pull
    out_dir = output_dir(config)
    enough = [j for j in judged if len(j.submitted) >= options.min_responses]
    records = [r for r in (template.output(j, section) for j in enough) if r is not None]
    fmt = template.output_format
    write_jsonl(out_dir / "records.jsonl", records)
    write_jsonl(out_dir / "trl.jsonl", to_trl_rows(records, fmt, options.trl_style))
    write_jsonl(out_dir / "annotations.jsonl", (
        {"record": j.external_id, "annotator": a.user, "status": a.status, "values": a.values,
         "order": j.info.get("order"), "content": content_hash(j.fields)} for j in judged for a in j.annotations))
    agreement = dataset_agreement(template, section, enough)
    win_rates = human_win_rates(template, enough, resamples=options.bootstrap_resamples, seed=options.seed)
    responses = sum(len(j.annotations) for j in judged)
    annotators = annotator_stats(template, section, judged)
    summary = PullSummary(str(out_dir), fmt, len(judged), len(records), len(enough) - len(records),
                          len(judged) - len(enough), responses, len(annotators), agreement, win_rates)
    pulled_at = datetime.now(UTC).isoformat(timespec="seconds")
    atomic_write_json(out_dir / "agreement.json", {
        "dataset": section.name, "workspace": section.workspace, "template": template.name, "format": fmt,
        "pulled_at": pulled_at, "records_answered": len(judged), "records_written": len(records),
        "records_undecided": summary.undecided, "records_below_min_responses": summary.too_few,
        "responses": responses, "agreement": agreement, "annotators": annotators, "human_win_rate": win_rates})
    atomic_write_text(out_dir / "SOURCE.md", (
        f"# {section.name}\n\nHuman annotations pulled from the Argilla dataset `{section.name}` "
        f"(workspace `{section.workspace}`, server {url}) on {pulled_at} with `alignlab annotate pull`.\n\n"
        f"- template: {template.name}; records: {len(records)} {fmt} (`records.jsonl`), TRL rows in `trl.jsonl`\n"
        f"- responses: {responses} by {len(annotators)} annotators (`annotations.jsonl`)\n"
        f"- agreement statistics: `agreement.json`\n\nThe texts keep the license of the data that was pushed.\n"))
    return summary
