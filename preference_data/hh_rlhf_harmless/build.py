"""Rebuild train.jsonl and test.jsonl in this folder from Anthropic's upstream HH-RLHF file.

    python preference_data/hh_rlhf_harmless/build.py path/to/hh-rlhf/harmless-base/test.jsonl.gz

Steps (see SOURCE.md): parse each transcript pair into a canonical pairwise record (prompt = every turn
before the final Assistant turn, as chat messages; chosen / rejected = that final turn, one assistant
message each; `source` = "hh-rlhf/harmless-base"; id derived from the content); drop pairs that do not
parse or do not validate (e.g. chosen identical to rejected) and exact duplicates; shuffle with a fixed
seed and hold out `--test-share` of the pairs as test.jsonl. The same input gives byte-identical output.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from alignlab.data.io import RowError, write_jsonl
from alignlab.data.records import canonicalize, content_digest
from alignlab.data.sources.hh_rlhf import iter_hh_rlhf
from alignlab.data.validation import RowChecker

SOURCE = "hh-rlhf/harmless-base"
HERE = Path(__file__).resolve().parent


def build(upstream: Path, out_dir: Path, seed: int, test_share: float) -> dict:
    checker = RowChecker("pairwise")
    records, dropped, seen = [], Counter(), set()
    rows = 0
    for line, record in iter_hh_rlhf(upstream, source=SOURCE):
        rows += 1
        problems = [(record.field, record.reason)] if isinstance(record, RowError) else checker.check(record, line)
        if problems:
            dropped[problems[0][1]] += 1
            continue
        digest = content_digest(record)
        if digest in seen:
            dropped["exact duplicate of an earlier pair"] += 1
            continue
        seen.add(digest)
        records.append(canonicalize(record))
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    test_count = round(test_share * len(records))
    test_indices = set(order[:test_count])
    # Each split keeps the upstream order, so a diff against an older build reads naturally.
    train = [r for i, r in enumerate(records) if i not in test_indices]
    test = [r for i, r in enumerate(records) if i in test_indices]
    write_jsonl(out_dir / "train.jsonl", train)
    write_jsonl(out_dir / "test.jsonl", test)
    return {"upstream_rows": rows, "kept": len(records), "train": len(train), "test": len(test),
            "dropped": dict(dropped)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstream", type=Path, help="hh-rlhf harmless-base/test.jsonl.gz (upstream, unchanged)")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: this folder)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-share", type=float, default=0.1)
    args = parser.parse_args()
    counts = build(args.upstream, args.out, args.seed, args.test_share)
    print(f"{counts['upstream_rows']} upstream pairs -> {counts['kept']} kept "
          f"({counts['train']} train, {counts['test']} test)")
    for reason, count in sorted(counts["dropped"].items(), key=lambda item: -item[1]):
        print(f"  dropped {count}: {reason}")


if __name__ == "__main__":
    main()
