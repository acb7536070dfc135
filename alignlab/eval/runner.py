"""Run evaluation suites on a model and write a self-describing, resumable eval folder.

    result = evaluate("runs/tiny/policy", ["bbq", "crows_pairs"], out="runs/eval_tiny", limit=100)
    result.metrics["bbq"]["accuracy"]          # {"value", "low", "high", "n", ...}

The folder (a run directory, `alignlab.runs`):

    OUT/config.yaml, env.json      resolved config; versions, git sha, seed, device
    OUT/<suite>/samples.jsonl      one line per example: inputs, model outputs, scores (every metric's source)
    OUT/<suite>/metrics.json       the suite's metrics with CIs, what it is, its data files and their sha256
    OUT/summary.json               written last: every suite's metrics; its presence means finished

Everything a suite needs is checked before the first suite starts (models, chat template, judge kind,
baseline). A suite whose metrics.json exists is not rerun, so an interrupted evaluation resumes where it
stopped; the same command on a finished folder just reads it back (`force=True` starts over). Examples are
subsampled deterministically (`eval.limit`, stratified where the suite says by what).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.config.eval import EvalConfig
from alignlab.errors import DataError
from alignlab.eval.context import EvalContext, ModelRef
from alignlab.eval.data import eval_data_dir, file_sha256, subsample
from alignlab.eval.stats import Stats
from alignlab.eval.suite import Suite, build_suite, describe
from alignlab.utils.io import atomic_write_json, atomic_write_text

SUMMARY_KIND = "alignlab eval"


@dataclass(frozen=True)
class EvalResult:
    out_dir: Path
    metrics: dict[str, dict[str, dict[str, Any]]]

    def __getitem__(self, suite: str) -> dict[str, dict[str, Any]]:
        return self.metrics[suite]


def _ref(section: Any) -> ModelRef | None:
    if section is None:
        return None
    return ModelRef(section.name_or_path, section.revision, section.trust_remote_code, section.dtype)


def make_context(config: EvalConfig, refusal_classifier: Any = None) -> EvalContext:
    """Plain values from the config; models are loaded later, only when a suite asks."""
    from alignlab.backends.rollout import SamplingParams

    device = config.eval.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    generation = config.generation
    return EvalContext(
        model=_ref(config.model), judge_ref=_ref(config.judge), baseline_ref=_ref(config.baseline),
        batch_size=config.eval.batch_size, device=device, max_length=config.eval.max_length,
        share_prefixes=config.eval.share_prefixes, engine=generation.engine,
        sampling=SamplingParams(max_new_tokens=generation.max_new_tokens, temperature=generation.temperature,
                                top_p=generation.top_p, seed=config.run.seed),
        chat_template=generation.chat_template, system_prompt=generation.system_prompt,
        judge_max_new_tokens=generation.judge_max_new_tokens,
        refusal_classifier=refusal_classifier or config.refusal.classifier, seed=config.run.seed,
        data_dir=eval_data_dir(),
    )


def _jsonable(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def run_suite(suite: Suite, context: EvalContext, stats: Stats, *, limit: int | None,
              seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Load, subsample, run and score one suite: (samples, metrics.json content)."""
    examples = suite.load(context.data_dir)
    if not examples:
        raise DataError(f"suite {suite.name!r}: its data holds no examples")
    ids = [example["id"] for example in examples]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"suite {suite.name!r}: example id {duplicate!r} appears twice in its data")
    chosen = subsample(examples, limit, seed=seed, strata=getattr(suite, "strata", None))
    start = time.perf_counter()
    generated_before = len(context.generations)
    samples = suite.run(chosen, context)
    metrics = suite.metrics(samples, stats)
    from alignlab.eval.quality import suite_quality  # kept apart: `metrics` is recomputable from samples.jsonl

    generation = suite_quality(context, generated_before, resamples=stats.n_resamples, seed=stats.seed)
    files = [context.data_dir / source.folder / name for source in suite.sources for name in source.files]
    info = {
        **describe(suite.name), "options": suite.options.model_dump(mode="json") if suite.options else {},
        "examples": {"available": len(examples), "evaluated": len(chosen), "limit": limit, "seed": seed},
        "data": [{"file": f"eval_data/{p.relative_to(context.data_dir).as_posix()}", "sha256": file_sha256(p)}
                 for p in files if p.is_file()],
        "bootstrap": {"resamples": stats.n_resamples, "confidence": stats.confidence, "seed": stats.seed},
        "elapsed_s": round(time.perf_counter() - start, 3), "metrics": metrics,
        "metric_order": list(metrics),  # the JSON file sorts keys; the first metric is the suite's headline
    }
    if generation:
        info["generation"] = generation
    return samples, info


def write_suite(folder: Path, samples: list[dict[str, Any]], info: dict[str, Any]) -> None:
    """samples.jsonl first, metrics.json last: a suite counts as done only once both are whole."""
    lines = "".join(json.dumps(s, ensure_ascii=False, default=_jsonable) + "\n" for s in samples)
    atomic_write_text(folder / "samples.jsonl", lines)
    atomic_write_json(folder / "metrics.json", json.loads(json.dumps(info, default=_jsonable)))


def run_eval(config: EvalConfig, *, force: bool = False, refusal_classifier: Any = None,
             progress: Callable[[str], None] | None = None, echo: Callable[[str], None] | None = None) -> EvalResult:
    """Check every suite's needs, then run them one by one into `run.output_dir / run.name`. `progress` gets a
    line per suite; `echo` (default: `progress`) a generating suite's progress; None: silent."""
    from alignlab.runs import open_run
    from alignlab.utils.seed import seed_everything

    suites = [build_suite(name, config.eval.options.get(name)) for name in config.eval.suites]
    context = make_context(config, refusal_classifier)
    context.echo = echo or progress
    progress = progress or (lambda line: None)
    for suite in suites:
        context.check(suite)
    if config.run.threads:
        import torch

        torch.set_num_threads(config.run.threads)
    seed_everything(config.run.seed)
    run = open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed, force=force)
    stats = Stats(config.eval.bootstrap_resamples, config.eval.confidence, config.run.seed)
    results: dict[str, dict[str, Any]] = {}
    for suite in suites:
        folder = run.dir / suite.name
        if (folder / "metrics.json").is_file():
            results[suite.name] = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
            progress(f"{suite.name}: finished earlier, read from {folder / 'metrics.json'}")
            continue
        samples, info = run_suite(suite, context, stats, limit=config.eval.limit, seed=config.run.seed)
        write_suite(folder, samples, info)
        results[suite.name] = info
        progress(headline(suite.name, info))
    summary = {"kind": SUMMARY_KIND, "model": config.model.name_or_path if config.model else None,
               "judge": config.judge.name_or_path if config.judge else None,
               "baseline": config.baseline.name_or_path if config.baseline else None,
               "suite_order": list(results),
               "suites": {name: {key: info.get(key) for key in ("title", "category", "examples", "metrics",
                                                                "metric_order") + (("generation",) if "generation"
                                                                                   in info else ())}
                          for name, info in results.items()}}
    run.finish(summary)
    if run.checkpoints_dir.is_dir() and not any(run.checkpoints_dir.iterdir()):
        run.checkpoints_dir.rmdir()  # an eval saves no checkpoints
    return EvalResult(run.dir, {name: info["metrics"] for name, info in results.items()})


def headline(name: str, info: dict[str, Any]) -> str:
    """One progress line: the suite, its size and time, and its first metric with the CI."""
    metric_name = (info.get("metric_order") or list(info["metrics"]))[0]
    metric = info["metrics"][metric_name]
    value = metric["value"]
    shown = "n/a" if value is None else f"{value:.4g}"
    if metric.get("low") is not None:
        shown += f" [{metric['low']:.4g}, {metric['high']:.4g}]"
    return (f"{name}: {info['examples']['evaluated']} examples in {info['elapsed_s']:.1f} s; "
            f"{metric_name} {shown}")


def build_config(config: EvalConfig | str | Path | None = None, overrides: Sequence[str] = (), *,
                 model: str | None = None, suites: Sequence[str] | str | None = None, judge: str | None = None,
                 baseline: str | None = None, out: str | Path | None = None,
                 limit: int | None = None) -> EvalConfig:
    """An EvalConfig from a YAML file (or defaults), dotted overrides, then explicit arguments (flags)."""
    from pydantic import ValidationError

    from alignlab.config.loader import load_config
    from alignlab.errors import ConfigError

    base = config if isinstance(config, EvalConfig) else load_config(config, EvalConfig, list(overrides))
    data = base.model_dump(mode="json")
    origin: dict[tuple, str] = {}
    for key, value, flag in (("model", model, "--model"), ("judge", judge, "--judge"),
                             ("baseline", baseline, "--baseline")):
        if value is not None:
            data[key] = {**(data.get(key) or {}), "name_or_path": str(value)}
            origin[(key, "name_or_path")] = f"{flag} {value}"
    if suites is not None:
        names = [s.strip() for s in suites.split(",")] if isinstance(suites, str) else list(suites)
        data["eval"]["suites"] = [name for name in names if name]
        origin[("eval", "suites")] = f"--suite {','.join(names)}"
    if limit is not None:
        data["eval"]["limit"] = limit
        origin[("eval", "limit")] = f"--limit {limit}"
    if out is not None:
        out = Path(out)
        data["run"]["output_dir"], data["run"]["name"] = str(out.parent), out.name
        origin[("run", "name")] = f"--out {out}"
    try:
        return EvalConfig.model_validate(data)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            loc = tuple(error["loc"])
            where = origin.get(loc) or origin.get(loc[:2]) or "command line"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {'.'.join(str(p) for p in loc)}: {message}")
        raise ConfigError("\n".join(problems)) from None


def evaluate(model: str | None = None, suites: Sequence[str] | str | None = None, *, judge: str | None = None,
             baseline: str | None = None, out: str | Path | None = None, limit: int | None = None,
             config: EvalConfig | str | Path | None = None, overrides: Sequence[str] = (), force: bool = False,
             refusal_classifier: Any = None, progress: Callable[[str], None] | None = None) -> EvalResult:
    """The Python API of `alignlab eval run`: same config, same folder, same numbers. `progress` (e.g. `print`)
    gets a line per suite and a generating suite's progress.

    `refusal_classifier` may be any object with `name` and `classify(prompts, responses, language)`.
    """
    resolved = build_config(config, overrides, model=model, suites=suites, judge=judge, baseline=baseline,
                            out=out, limit=limit)
    return run_eval(resolved, force=force, refusal_classifier=refusal_classifier, progress=progress)
