"""Run a pipeline: every stage of the unrolled graph in order, each in its own content-addressed folder.

    runs/<name>/
      config.yaml  env.json          the pipeline config as last run; versions, git sha, seed
      stages/<stage>[-r<k>]-<hash>/   one folder per stage and round; `stage.json` (written last) marks it
                                      finished and holds its outputs, wall time and peak memory
      summary.json                   written when every stage has finished: stage records, the report path
                                     and what the degeneration guards did (`guard`, `skipped`)

The folder name carries the stage's hash (its resolved settings and its inputs' hashes, `graph.stage_hash`),
so a finished stage is reused whenever nothing it depends on changed, a changed stage runs again in a new
folder (the old one stays, and is reused if the change is undone), and an interrupted pipeline resumes at the
first unfinished stage: that stage's trainer resumes from its own last checkpoint in the same folder.

Guards (`alignlab.pipeline.quality`): when an eval stage's degeneration guard trips, `reject` makes every later
stage read the previous accepted policy instead of that round's, and `stop` skips the later rounds' stages (the
once-stages, such as the report, still run); either way the later stages' hashes record it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.config.pipeline import PipelineConfig
from alignlab.errors import AlignlabError
from alignlab.pipeline.graph import Graph, Node, build_graph
from alignlab.utils.io import atomic_write_json, atomic_write_text

STAGE_RECORD = "stage.json"


@dataclass
class PipelineResult:
    dir: Path
    stages: list[dict[str, Any]]
    report: str | None

    def stage(self, key: str) -> dict[str, Any]:
        return next(s for s in self.stages if s["key"] == key)


class PeakRSS:
    """Peak resident memory of this process while a block runs (sampled from /proc; the process's high-water
    mark where /proc is absent)."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def current() -> int:
        try:
            with open("/proc/self/statm", encoding="ascii") as handle:
                return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, self.current())

    def __enter__(self) -> PeakRSS:
        self.peak = self.current()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, self.current())

    @property
    def mb(self) -> float:
        return round(self.peak / 2**20, 1)


def _read_record(folder: Path) -> dict[str, Any] | None:
    import json

    path = folder / STAGE_RECORD
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _inputs(node: Node, records: dict[str, dict[str, Any]],
            replaced: dict[str, str | None] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each role's upstream outputs; a policy the guard rejected reads as its replacement (`replaced`), and
    stages that never ran (after a guard stopped the loop) are left out."""
    replaced = replaced or {}

    def outputs(key: str) -> dict[str, Any]:
        record = records[key]
        return {**record["outputs"], "metrics": record["metrics"], "stage": record["stage"],
                "round": record["round"], "key": record["key"]}

    found: dict[str, list[dict[str, Any]]] = {}
    for role, nodes in node.inputs.items():
        keys = [replaced.get(n.key, n.key) for n in nodes]
        found[role] = [outputs(k) for k in keys if k is not None and k in records]
    return found


def guard_event(record: dict[str, Any]) -> dict[str, Any] | None:
    """The tripped degeneration guard of an eval stage's record (`alignlab.pipeline.quality`), else None."""
    guard = ((record.get("metrics") or {}).get("rule") or {}).get("guard") or {}
    if not guard.get("tripped"):
        return None
    outputs = record.get("outputs") or {}
    return {"stage": record["key"], "round": record.get("round"), "action": guard["action"],
            "reasons": guard["reasons"], "policy": outputs.get("model_stage"),
            "baseline": outputs.get("baseline_stage")}


class Guards:
    """What tripped guards did so far: rejected policies and their replacements, and where the loop stopped."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.replaced: dict[str, str | None] = {}  # rejected policy key -> the policy used instead
        self.accepted: dict[str, str] = {}  # policy stage name -> last accepted key
        self.stopped_round: int | None = None
        self.skipped: list[str] = []

    def observe(self, record: dict[str, Any], echo: Callable[[str], None]) -> None:
        event = guard_event(record)
        policy = (record.get("outputs") or {}).get("model_stage")
        if record.get("kind") != "eval" or not policy:
            return
        if event is None:
            self.accepted[policy.partition("@")[0]] = policy
            return
        self.events.append(event)
        if event["action"] == "reject":
            keep = self.accepted.get(policy.partition("@")[0]) or event["baseline"]
            self.replaced[policy] = keep
            event["kept"] = keep
            echo(f"[{record['key']}] guard rejected {policy}; later stages use {keep or 'no policy'} instead")
        elif event["action"] == "stop":
            self.stopped_round = record.get("round") or 0
            echo(f"[{record['key']}] guard stopped the feedback loop after round {self.stopped_round}")

    def skips(self, node: Node) -> bool:
        return self.stopped_round is not None and node.round is not None and node.round > self.stopped_round

    def salt(self, node: Node) -> None:
        """Stages after a guard acted see other inputs than the static graph says: their hash records it."""
        import hashlib
        import json

        if self.replaced or self.stopped_round is not None:
            acted = json.dumps([self.replaced, self.stopped_round], sort_keys=True)
            node.hash = hashlib.sha256((node.hash + acted).encode()).hexdigest()


def run_stage(graph: Graph, node: Node, root: Path, records: dict[str, dict[str, Any]],
              echo: Callable[[str], None], replaced: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Reuse the node's finished folder, or run it there and write `stage.json` last."""
    from alignlab.pipeline.stages import STAGE_KINDS, StageContext

    folder = root / "stages" / node.folder
    done = _read_record(folder)
    if done is not None and done.get("hash") == node.hash:
        echo(f"[{node.key}] finished earlier, reused ({folder.name})")
        return {**done, "reused": True}
    state = "resuming" if folder.exists() else "running"
    echo(f"[{node.key}] {state} {node.spec.kind} ({folder.name})")
    folder.mkdir(parents=True, exist_ok=True)
    context = StageContext(key=node.key, spec=node.spec, round=node.round, dir=folder, pipeline=graph.config,
                           inputs=_inputs(node, records, replaced), echo=echo, finished=list(records.values()))
    started = time.perf_counter()
    try:
        with PeakRSS() as memory:
            outputs = STAGE_KINDS.get(node.spec.kind).run(context)
    except AlignlabError as err:
        if f"stage {node.key!r}" not in str(err):
            raise type(err)(f"stage {node.key!r}: {err}") from None
        raise
    seconds = round(time.perf_counter() - started, 2)
    record = {"key": node.key, "stage": node.spec.name, "kind": node.spec.kind, "round": node.round,
              "hash": node.hash, "folder": str(folder), "seconds": seconds, "peak_rss_mb": memory.mb,
              "metrics": outputs.pop("metrics", {}), "outputs": outputs}
    atomic_write_json(folder / STAGE_RECORD, record)
    echo(f"[{node.key}] done in {seconds:.1f} s (peak RSS {memory.mb:.0f} MB)")
    return {**record, "reused": False}


def load_pipeline(path: str | Path | None, overrides: Sequence[str] = (), *, defaults: str | Path | None = None
                  ) -> tuple[PipelineConfig, Graph]:
    """Load and check a pipeline YAML (graph errors name the stage and its line)."""
    from alignlab.config.loader import load_config, read_yaml

    source = path if path is not None else defaults
    config = load_config(source, PipelineConfig, list(overrides))
    lines = read_yaml(source)[1] if source is not None else {}
    return config, build_graph(config, source=str(source) if source else None, lines=lines)


def run(config: PipelineConfig | str | Path, overrides: Sequence[str] = (), *, force: bool = False,
        echo: Callable[[str], None] = print, stop_after: str | None = None) -> PipelineResult:
    """Run (or resume) a pipeline; returns its folder, the stage records and the report path.

    `config`: a PipelineConfig or a YAML path (then `overrides` apply); `force`: redo every stage;
    `stop_after`: stop once the stage with this key (e.g. "rm@r1") has finished (for experiments)."""
    from alignlab.runs import environment
    from alignlab.utils.seed import seed_everything

    if isinstance(config, PipelineConfig):
        graph = build_graph(config)
    else:
        config, graph = load_pipeline(config, overrides)
    root = Path(config.run.output_dir) / config.run.name
    if force and (root / "stages").exists():
        shutil.rmtree(root / "stages")
    root.mkdir(parents=True, exist_ok=True)
    from alignlab.config.loader import dump_yaml

    atomic_write_text(root / "config.yaml", dump_yaml(config))
    if root.joinpath("summary.json").is_file():
        root.joinpath("summary.json").unlink()  # rewritten when this run finishes
    if config.run.threads:
        import torch

        torch.set_num_threads(config.run.threads)
    seed_everything(config.run.seed)
    atomic_write_json(root / "env.json", environment(config.run.seed))
    records: dict[str, dict[str, Any]] = {}
    guards = Guards()
    for node in graph.order:
        if guards.skips(node):
            guards.skipped.append(node.key)
            continue
        guards.salt(node)
        records[node.key] = run_stage(graph, node, root, records, echo, guards.replaced)
        guards.observe(records[node.key], echo)
        if stop_after == node.key:
            break
    stages = list(records.values())
    report = next((r["outputs"]["report"] for r in reversed(stages) if r["kind"] == "report"), None)
    if len(records) + len(guards.skipped) == len(graph.order):
        atomic_write_json(root / "summary.json", {
            "status": "stopped by guard" if guards.stopped_round is not None else "finished",
            "rounds": config.rounds, "report": report,
            "wall_time_s": round(sum(r["seconds"] for r in stages if not r["reused"]), 2),
            "guard": guards.events, "skipped": guards.skipped,
            "stages": [{k: r[k] for k in ("key", "kind", "round", "seconds", "peak_rss_mb", "reused", "folder",
                                          "metrics")} for r in stages]})
    return PipelineResult(root, stages, report)
