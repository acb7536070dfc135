"""Preference-data pipeline throughput: alignlab's streaming path vs plain pandas, side by side.

    .venv/bin/python benchmarks/data_pipeline.py --rows 1000000          # the recorded run
    .venv/bin/python benchmarks/data_pipeline.py --rows 20000 --repeats 1  # a quick check (tests, CI)

Generates N synthetic pairwise rows (prompt/chosen/rejected strings plus a source field, with a share of
exact duplicates) into a temporary JSONL, then runs the same job both ways, alternating which goes first:

- **A, alignlab**: `alignlab.data.convert_file(input, out, to="trl")`: stream, validate every row, drop
  exact duplicates, write TRL's standard JSONL (atomic).
- **B, pandas**: `read_json(lines=True)` (`--pandas-engine pyarrow` to use pandas' faster pyarrow
  reader instead of its default), the same row rules vectorized (strings, not empty or blank,
  at most max_chars, chosen != rejected, source a string), `drop_duplicates` on the content columns,
  `to_json(lines=True)` of prompt/chosen/rejected.

Each run is a fresh child process, so its peak RSS (`ru_maxrss` from `os.wait4`) is its own; timings are
taken inside the child around the job (imports excluded, for both). Reports medians over the repeats,
rows/s (input rows per second), the A/B ratio, and checks that both wrote the same rows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAX_CHARS = 100_000
_WORDS = ("the a to of and in is it you that for on with as this be are not can your have will or "
          "we an if by answer question help please model data reward human feedback preference good "
          "bad better worse helpful harmless honest safe unsafe explain why because example step first "
          "then finally sorry cannot sure here how what when where which would could should think know "
          "learn train test value result number small large fast slow café naïve über 東京 "
          "déjà vu").split()


def generate(path: Path, rows: int, duplicate_share: float, seed: int = 0) -> int:
    """Write `rows` pairwise rows, `duplicate_share` of them exact copies of earlier rows; return copies."""
    rng = random.Random(seed)
    sentences = [" ".join(rng.choices(_WORDS, k=rng.randint(6, 18))).capitalize() + "."
                 for _ in range(20_000)]
    kept: list[str] = []
    copies = 0
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(rows):
            if kept and rng.random() < duplicate_share:
                line = kept[rng.randrange(len(kept))]
                copies += 1
            else:
                row = {
                    "prompt": f"Question {index}: " + " ".join(rng.choices(sentences, k=rng.randint(1, 3))),
                    "chosen": " ".join(rng.choices(sentences, k=rng.randint(2, 6))),
                    "rejected": " ".join(rng.choices(sentences, k=rng.randint(1, 5))),
                    "source": "synthetic",
                }
                line = json.dumps(row, ensure_ascii=False)
                if len(kept) < 50_000:
                    kept.append(line)
            handle.write(line + "\n")
    return copies


def run_alignlab(source: str, output: str) -> dict:
    from alignlab.data import convert_file

    start = time.perf_counter()
    summary = convert_file(source, output, to="trl", fmt="pairwise", dedupe=True, max_chars=MAX_CHARS)
    return {"seconds": time.perf_counter() - start, "rows_in": summary.rows_in, "rows_out": summary.rows_out}


def run_pandas(source: str, output: str, engine: str = "ujson") -> dict:
    import pandas as pd

    start = time.perf_counter()
    # dtype=False: keep values as parsed (no number coercion); the pyarrow engine never coerces anyway.
    options = {"dtype": False} if engine == "ujson" else {}
    frame = pd.read_json(source, lines=True, engine=engine, **options)
    content = ["prompt", "chosen", "rejected"]
    missing = [name for name in content if name not in frame]
    if missing:
        raise SystemExit(f"missing columns {missing}")
    bad = pd.Series(False, index=frame.index)
    for name in content:
        column = frame[name]
        is_text = column.map(type).eq(str)
        text = column.where(is_text, "").astype(str)
        bad |= ~is_text | text.str.strip().str.len().eq(0) | text.str.len().gt(MAX_CHARS)
    bad |= frame["chosen"].eq(frame["rejected"])
    if "source" in frame:
        bad |= ~frame["source"].map(lambda v: v is None or type(v) is str)
    if bad.any():
        raise SystemExit(f"row {int(bad.idxmax()) + 1} is invalid")
    frame = frame.drop_duplicates(subset=content)
    frame[content].to_json(output, orient="records", lines=True, force_ascii=False)
    return {"seconds": time.perf_counter() - start, "rows_in": len(bad), "rows_out": len(frame)}


def child(side: str, source: str, output: str, engine: str) -> None:
    result = run_alignlab(source, output) if side == "alignlab" else run_pandas(source, output, engine)
    print(json.dumps(result))


def measure(side: str, source: Path, output: Path, engine: str) -> dict:
    """Run one side in a fresh process; its own peak RSS comes from wait4's rusage."""
    command = [sys.executable, __file__, "--child", side, str(source), str(output), "--pandas-engine", engine]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stdout = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{side} run failed (exit {process.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def same_rows(first: Path, second: Path) -> bool:
    """Both outputs hold the same rows in the same order (compared as parsed JSON)."""
    with open(first, encoding="utf-8") as a, open(second, encoding="utf-8") as b:
        for line_a, line_b in zip(a, b, strict=False):
            if json.loads(line_a) != json.loads(line_b):
                return False
        return not a.readline() and not b.readline()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duplicates", type=float, default=0.02, help="share of rows that repeat one")
    parser.add_argument("--pandas-engine", choices=("ujson", "pyarrow"), default="ujson",
                        help="read_json engine for the pandas side (pandas' default is ujson)")
    parser.add_argument("--child", nargs=3, metavar=("SIDE", "IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.pandas_engine)
        return
    results: dict[str, list[dict]] = {"alignlab": [], "pandas": []}
    with tempfile.TemporaryDirectory(prefix="alignlab-bench-") as tmp:
        source = Path(tmp) / "pairs.jsonl"
        copies = generate(source, args.rows, args.duplicates)
        size_mb = source.stat().st_size / 1e6
        print(f"input: {args.rows:,} rows ({copies:,} exact duplicates), {size_mb:,.0f} MB JSONL; "
              f"pandas read_json engine: {args.pandas_engine}")
        outputs = {side: Path(tmp) / f"{side}.jsonl" for side in results}
        for repeat in range(args.repeats):
            order = ("alignlab", "pandas") if repeat % 2 == 0 else ("pandas", "alignlab")
            for side in order:
                result = measure(side, source, outputs[side], args.pandas_engine)
                results[side].append(result)
                print(f"  run {repeat + 1} {side:8s} {result['seconds']:7.2f} s  "
                      f"{result['rows_in'] / result['seconds']:>10,.0f} rows/s  "
                      f"peak RSS {result['peak_rss_mb']:,.0f} MB  ({result['rows_out']:,} rows out)")
        identical = same_rows(outputs["alignlab"], outputs["pandas"])
    report(results, identical)


def report(results: dict[str, list[dict]], identical: bool) -> None:
    medians = {}
    for side, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        medians[side] = {"seconds": seconds, "rows_per_s": runs[0]["rows_in"] / seconds,
                         "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs)}
    a, b = medians["alignlab"], medians["pandas"]
    print("\nmedians")
    for side, m in medians.items():
        print(f"  {side:8s} {m['seconds']:7.2f} s  {m['rows_per_s']:>10,.0f} rows/s  "
              f"peak RSS {m['peak_rss_mb']:,.0f} MB")
    print(f"  speed ratio alignlab / pandas: {a['rows_per_s'] / b['rows_per_s']:.2f}x")
    print(f"  peak RSS ratio pandas / alignlab: {b['peak_rss_mb'] / a['peak_rss_mb']:.1f}x")
    print(f"  same rows written by both: {'yes' if identical else 'NO'}")
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
