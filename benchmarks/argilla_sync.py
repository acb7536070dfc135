"""Argilla sync throughput and annotator-queue latency with alignlab's embedded search engine.

    .venv/bin/python benchmarks/argilla_sync.py                       # the recorded run: 10k, then 100k
    .venv/bin/python benchmarks/argilla_sync.py --records 1000 --large 0 --queries 20   # a quick check

Starts a fresh local server (`alignlab annotate up` in a temporary state folder, the stamped server
environment of `alignlab annotate install`), then:

1. **push**: `alignlab.annotation.push` of N synthetic pairwise candidates (prompt + two ~60-word
   responses, model names, reward-model scores -> suggestions, source/category metadata) -> records/s.
2. **pull**: every record gets one submitted answer (set up through the owner's bulk upsert, not timed),
   then `alignlab.annotation.pull` writes the canonical records, TRL rows and agreement -> records/s;
   once through the local server's bulk read (the default) and once through the records search that
   every Argilla server has (`pull.bulk_read=false`, what a pull from `annotate connect URL` uses).
3. **latency** at N records, p50/p95 over `--queries` requests each:
   - *queue*: an annotator's next records, exactly the web UI's request (`/me/.../records/search`,
     response status pending for that user AND record status pending, per-user shuffled order, 10 records);
   - *filtered search*: the owner's search with a metadata terms filter, a suggestion-score range, a text
     query and a sort on insertion time (50 records).
4. With `--large M`, grows the dataset to M records (pushed the same way, rate reported) and measures the
   latencies again.

Targets (issue 5): push >= 150 records/s, pull >= 1,000 records/s, queue p95 <= 300 ms at 100,000 records.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alignlab.annotation import testing  # noqa: E402
from alignlab.annotation.pull import pull  # noqa: E402
from alignlab.annotation.push import push  # noqa: E402
from alignlab.config.annotate import AnnotateConfig  # noqa: E402

WORDS = ("the a to of and in is it you that for on with as this be are not can your have will or we an if "
         "answer question help please model data reward human feedback preference good bad better worse "
         "helpful harmless honest safe explain why because example step first then finally").split()


def generate(path: Path, start: int, count: int, seed: int = 0) -> None:
    rng = random.Random(seed + start)
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(start, start + count):
            row = {"id": f"bench-{index}",
                   "prompt": f"Question {index}: " + " ".join(rng.choices(WORDS, k=20)) + "?",
                   "responses": [" ".join(rng.choices(WORDS, k=60)), " ".join(rng.choices(WORDS, k=60))],
                   "models": ["policy-a", "policy-b"], "scores": [rng.random(), rng.random()],
                   "source": f"source-{index % 5}", "category": f"category-{index % 7}"}
            handle.write(json.dumps(row) + "\n")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(call, queries: int) -> list[float]:
    call()  # warm-up (first query compiles statements, fills caches)
    out = []
    for _ in range(queries):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def latencies(server, dataset_id: str, queries: int) -> dict[str, tuple[float, float]]:
    annotator = testing.login(server, "annotator-2")
    owner = server.owner()
    queue = lambda: testing.annotator_queue(annotator, dataset_id, limit=10)  # noqa: E731
    body = {"query": {"text": {"q": "helpful", "field": "prompt"}},
            "filters": {"and": [
                {"type": "terms", "scope": {"entity": "metadata", "metadata_property": "category"},
                 "values": ["category-3"]},
                {"type": "range", "scope": {"entity": "suggestion", "question": "preference", "property": "score"},
                 "ge": 0.55}]},
            "sort": [{"scope": {"entity": "record", "property": "inserted_at"}, "order": "desc"}]}
    search = lambda: owner.post(f"/api/v1/datasets/{dataset_id}/records/search?limit=50", body)  # noqa: E731
    total = testing.annotator_queue(annotator, dataset_id, limit=1)["total"]
    hits = search()["total"]
    print(f"    queue holds {total:,} records for annotator-2; the filtered search matches {hits:,}")
    return {"queue": percentiles(timed(queue, queries)), "filtered search": percentiles(timed(search, queries))}


def push_timed(config: AnnotateConfig, label: str) -> float:
    started = time.perf_counter()
    summary = push(config)
    seconds = time.perf_counter() - started
    rate = summary.sent / seconds
    print(f"  push {label}: {summary.sent:,} records in {seconds:.1f} s = {rate:,.0f} records/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000, help="grow to this many records (0: skip)")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="server state, kept afterwards (default: a temporary folder, removed)")
    args = parser.parse_args()

    root = args.state_dir or Path(tempfile.mkdtemp(prefix="alignlab-bench-"))
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    print(f"starting a local Argilla server in {root}")
    server = testing.start_server(root / "state", retry_max_s=120.0)
    try:
        generate(data / "first.jsonl", 0, args.records)
        config = AnnotateConfig.model_validate(server.config(
            dataset={"name": "bench", "template": "pairwise", "min_submitted": 2},
            annotators=["annotator-1", "annotator-2"], push={"path": str(data / "first.jsonl")},
            pull={"output_dir": str(root / "pulled")}))
        results = {"push_records_per_s": push_timed(config, f"{args.records:,}")}
        owner = server.owner()
        dataset = testing.dataset_of(server, "bench")
        answerer = testing.user_id(owner, "annotator-1")
        testing.seed_responses(owner, dataset["id"], [(f"bench-{i}", answerer, {"preference": {"value": "a"}},
                                                       "submitted") for i in range(args.records)])
        for bulk_read, label in ((True, "pull"), (False, "pull_records_search")):
            options = config.pull.model_copy(update={"bulk_read": bulk_read})
            started = time.perf_counter()
            summary = pull(config.model_copy(update={"pull": options}))
            seconds = time.perf_counter() - started
            results[f"{label}_records_per_s"] = summary.pulled / seconds
            how = "bulk read" if bulk_read else "records search, as from any Argilla server"
            print(f"  pull ({how}): {summary.pulled:,} answered records ({summary.responses:,} responses) in "
                  f"{seconds:.1f} s = {results[f'{label}_records_per_s']:,.0f} records/s")
        print(f"  latency at {args.records:,} records ({args.queries} queries each):")
        results[f"latency_{args.records}"] = report(latencies(server, dataset["id"], args.queries))
        if args.large > args.records:
            generate(data / "more.jsonl", args.records, args.large - args.records)
            more = config.model_copy(update={"push": config.push.model_copy(update={"path": str(data / "more.jsonl")})})
            results["push_large_records_per_s"] = push_timed(more, f"{args.large - args.records:,} more")
            print(f"  latency at {args.large:,} records ({args.queries} queries each):")
            results[f"latency_{args.large}"] = report(latencies(server, dataset["id"], args.queries))
        print(json.dumps(_rounded(results), indent=2))
    finally:
        testing.launcher.down(server.server)
        if args.state_dir is None:
            shutil.rmtree(root, ignore_errors=True)  # ~360 MB at 100,000 records


def _rounded(value):
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return round(value, 1) if isinstance(value, float) else value


def report(measured: dict[str, tuple[float, float]]) -> dict[str, dict[str, float]]:
    for name, (p50, p95) in measured.items():
        print(f"    {name:16s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    return {name: {"p50_ms": p50, "p95_ms": p95} for name, (p50, p95) in measured.items()}


if __name__ == "__main__":
    main()
