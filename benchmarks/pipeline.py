"""The demo pipeline, stage by stage: wall time, peak RSS, and where the time goes by module.

    .venv/bin/python benchmarks/pipeline.py                # the full demo (configs/demo.yaml defaults)
    .venv/bin/python benchmarks/pipeline.py --quick        # a reduced demo (same stages, tiny sizes)

Each stage runs under cProfile in this process (`alignlab.pipeline.run_stage`, exactly what `alignlab demo`
calls); its self time ("tottime") is attributed to the package whose file a function lives in: alignlab's own
code, torch, transformers, trl, other libraries (datasets, accelerate, tokenizers, numpy, ...), the standard
library, and native calls (C functions and torch operators, reported by cProfile without a file; they are
library work called from Python). The share of our own code is alignlab's self time over the stage's profiled
time; the target is < 10% (the framework should be glue, not the work). cProfile slows Python-heavy code
(ours included) more than native code, so the share is an upper bound. Peak RSS is sampled from /proc every
50 ms while the stage runs (`alignlab.pipeline.runner.PeakRSS`). Results: benchmarks/results/pipeline.json
and .md. The pipeline folder is fresh each time (a temporary folder unless --out is given), so nothing is reused.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUICK = ["sizes.pretrain_steps=20", "sizes.sft_steps=20", "sizes.sft_examples=200", "sizes.pool=64",
         "sizes.batch=48", "sizes.rm_epochs=1", "sizes.dpo_epochs=1", "sizes.heldout_prompts=32", "sizes.eval_limit=4"]
BUCKETS = ("alignlab", "torch", "transformers", "trl", "other libraries", "python stdlib", "native calls")


def bucket(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "native calls"
    path = filename.replace("\\", "/")
    if "/alignlab/" in path and "site-packages" not in path:
        return "alignlab"
    for name in ("torch", "transformers", "trl"):
        if f"site-packages/{name}/" in path:
            return name
    if "site-packages/" in path:
        return "other libraries"
    return "python stdlib"


def attribute(profile: cProfile.Profile) -> tuple[dict[str, float], float, list[tuple[str, float]]]:
    stats = pstats.Stats(profile)
    by_bucket: dict[str, float] = defaultdict(float)
    ours: list[tuple[str, float]] = []
    for (filename, line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        name = bucket(filename)
        by_bucket[name] += tottime
        if name == "alignlab":
            ours.append((f"{filename.split('/alignlab/', 1)[-1]}:{line}({function})", tottime))
    total = sum(by_bucket.values())
    return dict(by_bucket), total, sorted(ours, key=lambda item: -item[1])[:5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Reduced sizes (a minute or two).")
    parser.add_argument("--out", type=Path, default=None, help="Pipeline output folder (default: a temp folder).")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    from alignlab.cli._common import quiet_transformers
    from alignlab.config import load_config
    from alignlab.config.schemas import DemoConfig
    from alignlab.demo import demo_pipeline
    from alignlab.pipeline import build_graph, run_stage

    quiet_transformers()
    out = args.out or Path(tempfile.mkdtemp(prefix="alignlab-pipeline-bench-"))
    config = load_config(None, DemoConfig, [f"run.output_dir={out}", *(QUICK if args.quick else [])])
    pipeline = demo_pipeline(config)
    graph = build_graph(pipeline)
    root = out / pipeline.run.name
    import torch

    torch.set_num_threads(pipeline.run.threads or torch.get_num_threads())
    records: dict[str, dict] = {}
    rows = []
    started = time.perf_counter()
    for node in graph.order:
        profile = cProfile.Profile()
        profile.enable()
        records[node.key] = run_stage(graph, node, root, records, echo=lambda line: None)
        profile.disable()
        by_bucket, total, top = attribute(profile)
        record = records[node.key]
        rows.append({"stage": node.key, "kind": node.spec.kind, "wall_s": record["seconds"],
                     "peak_rss_mb": record["peak_rss_mb"], "profiled_s": round(total, 2),
                     "share": {k: round(by_bucket.get(k, 0.0) / total, 4) if total else 0.0 for k in BUCKETS},
                     "top_alignlab": [[name, round(t, 3)] for name, t in top]})
        print(f"{node.key:<14} {record['seconds']:8.1f} s  {record['peak_rss_mb']:7.0f} MB  "
              f"alignlab {100 * rows[-1]['share']['alignlab']:5.1f}%", flush=True)
    wall = time.perf_counter() - started
    totals = defaultdict(float)
    for row in rows:
        for key, share in row["share"].items():
            totals[key] += share * row["profiled_s"]
    profiled = sum(row["profiled_s"] for row in rows)
    overall = {k: round(totals[k] / profiled, 4) for k in BUCKETS}
    rule = {key: records[key]["metrics"]["rule"]["win_rate"] for key in records
            if records[key]["kind"] == "eval" and records[key]["metrics"].get("rule")}
    result = {"command": " ".join(["benchmarks/pipeline.py", *sys.argv[1:]]), "quick": args.quick,
              "date": time.strftime("%Y-%m-%d"), "threads": torch.get_num_threads(), "wall_s": round(wall, 1),
              "profiled_s": round(profiled, 1), "share_overall": overall, "rule_win_rates": rule, "stages": rows}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "pipeline.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Demo pipeline, stage by stage ({'quick' if args.quick else 'full'})", "",
             f"`{result['command']}` on {result['date']}, torch threads {result['threads']}; wall {wall:.0f} s "
             f"(profiled {profiled:.0f} s). Share of self time in alignlab's own code: "
             f"**{100 * overall['alignlab']:.1f}%** (target < 10%).", "",
             "| stage | kind | wall s | peak RSS MB | alignlab | torch | transformers | trl | other libs | stdlib | "
             "native |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        shares = " | ".join(f"{100 * row['share'][k]:.1f}%" for k in BUCKETS)
        lines.append(f"| {row['stage']} | {row['kind']} | {row['wall_s']:.1f} | {row['peak_rss_mb']:.0f} | {shares} |")
    lines += ["", "Rule win rate vs the SFT policy (95% CI): " + ", ".join(
        f"{key} {w['value']:.3f} [{w['low']:.3f}, {w['high']:.3f}]" for key, w in rule.items())]
    (args.results / "pipeline.md").write_text("\n".join(lines) + "\n")
    print(f"overall alignlab share {100 * overall['alignlab']:.1f}%; wrote {args.results / 'pipeline.md'}")


if __name__ == "__main__":
    main()
