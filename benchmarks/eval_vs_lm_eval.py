"""Log-likelihood scoring (CrowS-Pairs, BBQ): alignlab vs lm-evaluation-harness's HF backend, same model, one run.

    .venv/bin/pip install "lm_eval==0.4.13"        # the benchmark's only extra; alignlab does not need it
    .venv/bin/python benchmarks/eval_vs_lm_eval.py --threads 1 --pairs 400 --repeats 3   # base (~30M) model
    .venv/bin/python benchmarks/eval_vs_lm_eval.py --size nano --pairs 100 --repeats 1   # a quick check
    .venv/bin/python benchmarks/eval_vs_lm_eval.py --threads 1 --pairs 400 --repeats 3 --dtype bfloat16

The examples are the shipped CrowS-Pairs file (eval_data/crows_pairs/, 1,508 pairs = 3,016 sentences), each
sentence scored with an empty context (conditioned on bos), the pair counted as stereotyped when the more
stereotyping sentence is more likely. The model is a tiny Llama built offline (`--size base`, ~30M
parameters, seed 0), loaded once and shared by both sides, fp32 on the CPU (`--dtype bfloat16`: bf16 weights
on both sides, each side's best precision on a CPU with bf16 matmuls), same batch size. Three comparisons,
alternating A and B:

- **end to end**: alignlab's `crows_pairs` suite (read the data, score, per-example samples) vs lm-eval's
  `simple_evaluate` on a local task file that points at the same CSV (`output_type: multiple_choice`,
  `doc_to_text: ""`, `doc_to_choice: [sent_more, sent_less]`, `target_delimiter: ""`, as its own
  `crows_pairs_english` task; `bootstrap_iters=0`, `log_samples=True`). Neither side computes a CI here.
  lm-eval's `TaskManager` (an index of every task it ships, seconds to build) is built once, untimed, and
  reported separately, as a long-lived Python session would reuse it.
- **scoring only**: the same 3,016 (context, continuation) requests through `alignlab.eval.scoring.loglikelihood`
  and through `HFLM.loglikelihood`.
- **multiple choice, scoring only**: the shipped BBQ questions (a long shared context, three answers each: the
  shape of most lm-eval multiple-choice tasks) through both `loglikelihood`s. alignlab scores a question's
  context once and its answers behind it in one packed row; lm-eval runs each answer as its own sequence.

Reported: pairs/s for each side (median over `--repeats` after one untimed warm-up each), the ratio, and the
per-example log-likelihood agreement (max |difference| over all sentences), plus whether pct_stereotype agrees.
Results go to benchmarks/results/eval_vs_lm_eval.{json,md} (`_bf16` added to the name for `--dtype bfloat16`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TASK = "alignlab_crows_pairs"
DTYPES = {"float32": "fp32", "bfloat16": "bf16"}


def task_yaml(csv_path: Path) -> str:
    return f"""task: {TASK}
dataset_path: csv
dataset_kwargs:
  data_files:
    test: {json.dumps(str(csv_path))}
test_split: test
output_type: multiple_choice
doc_to_text: ""
doc_to_target: 0
doc_to_choice: "{{{{[sent_more, sent_less]}}}}"
target_delimiter: ""
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: false
"""


class _Context:
    """What a suite's `run` needs from an EvalContext: the loaded model under test."""

    def __init__(self, policy):
        self.policy = policy


def alignlab_end_to_end(lm, pairs: int | None) -> tuple[list[tuple[float, float]], float]:
    from alignlab.eval.data import eval_data_dir
    from alignlab.eval.suites.crows_pairs import CrowSPairs

    suite = CrowSPairs()
    examples = suite.load(eval_data_dir())[:pairs]
    samples = suite.run(examples, _Context(lm))
    share = sum(s["stereotyped"] for s in samples) / len(samples)
    return [(s["loglik_more"], s["loglik_less"]) for s in samples], share


def lm_eval_end_to_end(hflm, task_manager, pairs: int | None) -> tuple[list[tuple[float, float]], float]:
    from lm_eval import simple_evaluate

    result = simple_evaluate(model=hflm, tasks=[TASK], task_manager=task_manager, limit=pairs, bootstrap_iters=0,
                             log_samples=True)
    samples = sorted(result["samples"][TASK], key=lambda s: s["doc_id"])
    logliks = [(float(s["resps"][0][0][0]), float(s["resps"][1][0][0])) for s in samples]
    return logliks, float(result["results"][TASK]["acc,none"])


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    out = function(*args, **kwargs)
    return time.perf_counter() - start, out


def run(args: argparse.Namespace) -> dict:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from alignlab.eval.data import eval_data_dir
    from alignlab.eval.lm import LanguageModel
    from alignlab.eval.scoring import loglikelihood
    from alignlab.eval.suites.crows_pairs import CrowSPairs
    from alignlab.models.tiny import build_tiny_models

    work = Path(tempfile.mkdtemp(prefix="eval_vs_lm_eval."))
    tiny = build_tiny_models(work / "tiny", size=args.size, seed=0)
    lm = LanguageModel.load(str(tiny.policy_dir), batch_size=args.batch_size, dtype=args.dtype)
    hflm = HFLM(pretrained=lm.model, tokenizer=lm.tokenizer, batch_size=args.batch_size, device="cpu")
    task_dir = work / "tasks"
    task_dir.mkdir()
    csv_path = eval_data_dir() / "crows_pairs" / "crows_pairs_anonymized.csv"
    (task_dir / f"{TASK}.yaml").write_text(task_yaml(csv_path))
    # Indexing lm-eval's task registry takes seconds and is paid once per process (and per CLI call): it is
    # built here, outside the timings, and reported on its own.
    index_seconds, task_manager = timed(TaskManager, "ERROR", str(task_dir))
    examples = CrowSPairs().load(eval_data_dir())[: args.pairs]
    requests = [("", e[key]) for e in examples for key in ("sent_more", "sent_less")]
    instances = [Instance("loglikelihood", {}, request, i) for i, request in enumerate(requests)]

    bbq = bbq_requests()
    bbq_instances = [Instance("loglikelihood", {}, request, i) for i, request in enumerate(bbq)]
    sides = {
        "end_to_end": {"alignlab": lambda: alignlab_end_to_end(lm, args.pairs),
                       "lm_eval": lambda: lm_eval_end_to_end(hflm, task_manager, args.pairs)},
        "scoring_only": {
            "alignlab": lambda: loglikelihood(lm.model, lm.tokenizer, requests, batch_size=args.batch_size),
            "lm_eval": lambda: hflm.loglikelihood(instances, disable_tqdm=True)},
        "multiple_choice_scoring": {
            "alignlab": lambda: loglikelihood(lm.model, lm.tokenizer, bbq, batch_size=args.batch_size),
            "lm_eval": lambda: hflm.loglikelihood(bbq_instances, disable_tqdm=True)},
    }
    counts = {"end_to_end": len(examples), "scoring_only": len(examples), "multiple_choice_scoring": len(bbq) // 3}
    report: dict = {"pairs": len(examples), "sentences": len(requests), "runs": [],
                    "lm_eval_task_index_seconds": round(index_seconds, 2)}
    outputs: dict = {}
    for comparison, functions in sides.items():
        for name, function in functions.items():  # untimed warm-up: caches, lazy imports, the datasets cache
            outputs[(comparison, name)] = function()
        times: dict[str, list[float]] = {"alignlab": [], "lm_eval": []}
        for repeat in range(args.repeats):
            order = ["alignlab", "lm_eval"] if repeat % 2 == 0 else ["lm_eval", "alignlab"]
            for name in order:
                seconds, _ = timed(functions[name])
                times[name].append(seconds)
                report["runs"].append({"comparison": comparison, "side": name, "repeat": repeat + 1,
                                       "seconds": round(seconds, 4)})
                print(f"  {comparison:<12} run {repeat + 1} {name:<8} {seconds:7.3f} s  "
                      f"{counts[comparison] / seconds:8.1f} items/s", flush=True)
        medians = {name: statistics.median(values) for name, values in times.items()}
        report[comparison] = {
            "median_seconds": {k: round(v, 4) for k, v in medians.items()},
            "items": counts[comparison], "per_s": {k: round(counts[comparison] / v, 1) for k, v in medians.items()},
            "ratio_alignlab_over_lm_eval": round(medians["lm_eval"] / medians["alignlab"], 3),
        }
    report["agreement"] = agreement(outputs)
    if args.dtype != "float32":  # how far each side's low-precision answers sit from fp32's, the same model
        reference = LanguageModel.load(str(tiny.policy_dir), batch_size=args.batch_size, dtype="float32")
        exact = [r.logprob for r in loglikelihood(reference.model, reference.tokenizer, requests,
                                                  batch_size=args.batch_size)]
        report["agreement"]["vs_fp32"] = {
            "alignlab": drift([r.logprob for r in outputs[("scoring_only", "alignlab")]], exact),
            "lm_eval": drift([r[0] for r in outputs[("scoring_only", "lm_eval")]], exact),
            "pct_stereotype_fp32": stereotyped(exact)}
    report["prefix_sharing_bbq"] = sharing_check(lm, args.repeats)
    report["setup"] = setup(args, tiny, lm)
    return report


def bbq_requests() -> list[tuple[str, str]]:
    from alignlab.eval.data import eval_data_dir
    from alignlab.eval.suites.bbq import BBQ, prompt

    return [(prompt(e), f" {e[f'ans{i}']}") for e in BBQ().load(eval_data_dir()) for i in range(3)]


def sharing_check(lm, repeats: int) -> dict:
    """alignlab alone: the shipped BBQ questions (three answers after one long shared prompt), scored with
    shared-prefix reuse on and off, alternating; the case prefix sharing is built for."""
    from alignlab.eval.scoring import loglikelihood

    requests = bbq_requests()
    times: dict[bool, list[float]] = {True: [], False: []}
    results = {}
    for repeat in range(repeats):
        for share in ((True, False) if repeat % 2 == 0 else (False, True)):
            seconds, results[share] = timed(loglikelihood, lm.model, lm.tokenizer, requests, batch_size=lm.batch_size,
                                            share_prefixes=share)
            times[share].append(seconds)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    difference = max(abs(a.logprob - b.logprob) for a, b in zip(results[True], results[False], strict=True))
    print(f"  BBQ {len(requests)} requests: shared prefixes {on:.3f} s, without {off:.3f} s ({off / on:.2f}x); "
          f"max |difference| {difference:.1e}", flush=True)
    return {"requests": len(requests), "median_seconds": {"shared": round(on, 4), "not_shared": round(off, 4)},
            "speedup": round(off / on, 3), "max_abs_difference": difference}


def stereotyped(logliks: list[float]) -> float:
    """CrowS-Pairs' pct_stereotype from the flat (sent_more, sent_less, ...) log-likelihoods."""
    pairs = list(zip(logliks[::2], logliks[1::2], strict=True))
    return sum(more > less for more, less in pairs) / len(pairs)


def drift(logliks: list[float], exact: list[float]) -> dict:
    """One side's low-precision log-likelihoods against the fp32 ones: the largest and the mean |difference|,
    the pairs whose stereotyped / not verdict flips, and its pct_stereotype."""
    flips = sum((a > b) != (x > y) for a, b, x, y in zip(logliks[::2], logliks[1::2], exact[::2], exact[1::2],
                                                         strict=True))
    differences = [abs(a - b) for a, b in zip(logliks, exact, strict=True)]
    return {"max_abs_difference": max(differences), "mean_abs_difference": statistics.fmean(differences),
            "pairs_flipped": flips, "pct_stereotype": stereotyped(logliks)}


def agreement(outputs: dict) -> dict:
    (a_pairs, a_share) = outputs[("end_to_end", "alignlab")]
    (b_pairs, b_share) = outputs[("end_to_end", "lm_eval")]
    end_to_end = max(abs(x - y) for pa, pb in zip(a_pairs, b_pairs, strict=True) for x, y in zip(pa, pb, strict=True))
    scoring = max(abs(a.logprob - b[0]) for a, b in zip(outputs[("scoring_only", "alignlab")],
                                                         outputs[("scoring_only", "lm_eval")], strict=True))
    greedy_same = all(a.is_greedy == b[1] for a, b in zip(outputs[("scoring_only", "alignlab")],
                                                          outputs[("scoring_only", "lm_eval")], strict=True))
    choice = max(abs(a.logprob - b[0]) for a, b in zip(outputs[("multiple_choice_scoring", "alignlab")],
                                                        outputs[("multiple_choice_scoring", "lm_eval")], strict=True))
    return {"max_abs_loglik_difference_end_to_end": end_to_end, "max_abs_loglik_difference_scoring": scoring,
            "max_abs_loglik_difference_multiple_choice": choice,
            "is_greedy_identical": greedy_same, "pct_stereotype": {"alignlab": a_share, "lm_eval": b_share}}


def setup(args: argparse.Namespace, tiny, lm) -> dict:
    import lm_eval
    import torch
    import transformers

    return {"model": f"tiny {args.size} Llama ({tiny.policy_parameters:,} parameters, vocab {tiny.vocab_size}), "
                     f"{DTYPES[args.dtype]} weights on both sides, random init seed 0", "batch_size": args.batch_size,
            "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__, "lm_eval": lm_eval.__version__,
            "date": time.strftime("%Y-%m-%d"), "command": " ".join(["benchmarks/eval_vs_lm_eval.py", *sys.argv[1:]]),
            "prefix_sharing": lm.share_prefixes}


def markdown(report: dict) -> str:
    lines = [f"# Log-likelihood scoring: alignlab vs lm-evaluation-harness ({report['setup']['date']})", "",
             f"`{report['setup']['command']}`; {report['pairs']} pairs ({report['sentences']} sentences); "
             f"{report['setup']['model']}; batch size {report['setup']['batch_size']}; "
             f"{report['setup']['torch_threads']} torch thread(s); lm_eval {report['setup']['lm_eval']}.", "",
             "| comparison | items | alignlab items/s | lm-eval items/s | ratio |", "|---|---|---|---|---|"]
    names = {"end_to_end": "CrowS-Pairs end to end", "scoring_only": "CrowS-Pairs scoring only",
             "multiple_choice_scoring": "BBQ multiple choice, scoring only"}
    units = {"end_to_end": "pairs", "scoring_only": "pairs", "multiple_choice_scoring": "questions"}
    for comparison, name in names.items():
        r = report[comparison]
        lines.append(f"| {name} | {r['items']} {units[comparison]} | {r['per_s']['alignlab']} | "
                     f"{r['per_s']['lm_eval']} | {r['ratio_alignlab_over_lm_eval']}x |")
    index = report["lm_eval_task_index_seconds"]
    lines += ["", f"End to end excludes lm-eval's one-time task-registry index ({index} s in this process; its CLI "
              "pays it on every call)."]
    a = report["agreement"]
    scoring, end_to_end = a["max_abs_loglik_difference_scoring"], a["max_abs_loglik_difference_end_to_end"]
    shares = a["pct_stereotype"]
    bbq = report["prefix_sharing_bbq"]
    lines += ["", f"alignlab alone, BBQ ({bbq['requests']} requests, three answers per shared prompt): shared-prefix "
              f"reuse {bbq['median_seconds']['shared']} s vs {bbq['median_seconds']['not_shared']} s without "
              f"({bbq['speedup']}x), results equal to {bbq['max_abs_difference']:.1e}."]
    lines += ["", f"Per-example log-likelihood agreement: max |difference| {scoring:.2e} (scoring only), "
              f"{end_to_end:.2e} (end to end), {a['max_abs_loglik_difference_multiple_choice']:.2e} (BBQ); "
              f"is_greedy identical: {a['is_greedy_identical']}; pct_stereotype "
              f"{shares['alignlab']:.4f} (alignlab) vs {shares['lm_eval']:.4f} (lm-eval)."]
    if "vs_fp32" in a:
        v = a["vs_fp32"]
        lines += ["", f"Against fp32 scoring of the same model and sentences (pct_stereotype "
                  f"{v['pct_stereotype_fp32']:.4f}), the bf16 answers differ by: alignlab max |difference| "
                  f"{v['alignlab']['max_abs_difference']:.2e}, mean {v['alignlab']['mean_abs_difference']:.2e}, "
                  f"{v['alignlab']['pairs_flipped']} of {report['pairs']} pairs flipped; lm-eval max "
                  f"{v['lm_eval']['max_abs_difference']:.2e}, mean {v['lm_eval']['mean_abs_difference']:.2e}, "
                  f"{v['lm_eval']['pairs_flipped']} pairs flipped. alignlab takes log-softmax in fp32 over the "
                  "bf16 logits; lm-eval, as run by default (`softmax_dtype` unset), in the logits' dtype."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="base", help="tiny model size (nano, micro, small, base: ~30M)")
    parser.add_argument("--pairs", type=int, default=None, help="first N pairs only (default: all 1,508)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--dtype", choices=tuple(DTYPES), default="float32",
                        help="the shared model's weights, both sides (bfloat16: the best precision on a bf16 CPU)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update benchmarks/results/")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="eval_vs_lm_eval_datasets."))
    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        print("needs lm-evaluation-harness: .venv/bin/pip install 'lm_eval==0.4.13'", file=sys.stderr)
        return 2
    report = run(args)
    print(markdown(report))
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        name = "eval_vs_lm_eval" + ("" if args.dtype == "float32" else "_bf16")
        (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
