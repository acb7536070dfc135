"""The `annotate` stage: candidate pairs become preference records, from simulated annotators or from people.

- `source: simulated`: a panel of noisy raters following the pipeline's hidden rule
  (`alignlab.annotation.simulated`); `mirror: auto` also pushes the batch to an Argilla server when one is
  reachable (the demo shows the workspace without waiting for people).
- `source: argilla`: the batch is pushed to the Argilla workspace (`alignlab.annotation.push`) and pulled
  (`alignlab.annotation.pull`) every `poll_s` seconds until `required` records have `min_submitted` answers;
  after `timeout_s` the stage stops with a one-line error saying how many are answered and where (re-running
  the pipeline resumes the poll; nothing pushed is pushed twice).

Output folder: `batch.jsonl` (this round), `records.jsonl` (this round plus every earlier round's: the data
accumulates), `agreement.json`, `audit/` (the data audit of `records.jsonl`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from alignlab.config.base import StrictModel
from alignlab.errors import AlignlabError


class ArgillaOptions(StrictModel):
    url: str | None = Field(None, description="Argilla server (default: the local one `annotate up` starts).")
    state_dir: Path = Field(Path(".alignlab/argilla"), description="Local server state and credentials.")
    port: int = Field(6900, ge=1, le=65535)
    dataset: str | None = Field(None, description="Dataset name (default: <pipeline>-<stage>-r<round>).")
    workspace: str = "alignlab"
    annotators: list[str] = Field(default_factory=list, description="Annotator accounts to create.")
    min_submitted: int = Field(1, ge=1, description="Answers a record needs.")
    required: int | None = Field(None, ge=1, description="Answered records to wait for (default: all pushed).")
    poll_s: float = Field(30.0, gt=0)
    timeout_s: float = Field(3600.0, gt=0, description="Stop waiting after this long (re-run to keep waiting).")


class AnnotateOptions(StrictModel):
    source: Literal["simulated", "argilla"] = "simulated"
    annotators: int = Field(3, ge=1, description="Simulated raters per pair.")
    noise: float | list[float] = Field(0.1, description="Probability a rater answers at random (one or per rater).")
    position_bias: float | list[float] = Field(0.0, description="Probability a rater picks the first shown.")
    mirror: Literal["auto", "off"] = Field("off", description="simulated: also push the batch to a reachable "
                                           "Argilla server (auto) for people to see.")
    argilla: ArgillaOptions = Field(default_factory=ArgillaOptions)


def _server(options: ArgillaOptions, quick: bool) -> Any:
    from alignlab.config.annotate import ServerSection

    return ServerSection(url=options.url, state_dir=options.state_dir, port=options.port,
                         **({"retry_max_s": 0.0, "request_timeout_s": 5.0} if quick else {}))


def _annotate_config(context: Any, options: ArgillaOptions, candidates: str, quick: bool = False) -> Any:
    from alignlab.config.annotate import AnnotateConfig

    name = options.dataset or f"{context.pipeline.run.name}-{context.spec.name}-r{context.round or 0}"
    return AnnotateConfig.model_validate({
        "server": _server(options, quick).model_dump(mode="json"),
        "dataset": {"name": name.replace(".", "-"), "workspace": options.workspace, "template": "pairwise",
                    "min_submitted": options.min_submitted},
        "annotators": options.annotators,
        "push": {"path": candidates, "format": "candidates", "seed": context.seed},
        "pull": {"output_dir": str(Path(context.dir) / "argilla"), "min_responses": options.min_submitted},
    })


def mirror_to_argilla(context: Any, options: ArgillaOptions, candidates: str) -> dict[str, Any]:
    """Push the batch when a server answers at once; never waits, never fails the stage."""
    from alignlab.annotation.errors import AnnotationError
    from alignlab.annotation.push import push

    try:
        summary = push(_annotate_config(context, options, candidates, quick=True), echo=lambda *_: None)
    except (AnnotationError, OSError) as err:
        return {"pushed": False, "reason": str(err).splitlines()[0][:200]}
    context.echo(f"also pushed {summary.records} pairs to Argilla: {summary.annotation_url}")
    return {"pushed": True, "dataset": summary.dataset, "url": summary.annotation_url}


def collect_from_argilla(context: Any, options: ArgillaOptions, candidates: str, total: int) -> list[dict]:
    """Push, then pull until `required` records are answered; the pulled canonical records."""
    from alignlab.annotation.pull import pull
    from alignlab.annotation.push import push
    from alignlab.data.io import read_rows

    config = _annotate_config(context, options, candidates)
    pushed = push(config, echo=context.echo)
    required = min(options.required or total, total)
    context.echo(f"waiting for {required} answered records at {pushed.annotation_url} "
                 f"(polling every {options.poll_s:g} s, at most {options.timeout_s:g} s)")
    started = time.monotonic()
    while True:
        summary = pull(config, echo=lambda *_: None)
        if summary.written >= required:
            return read_rows(Path(summary.output_dir) / "records.jsonl")
        waited = time.monotonic() - started
        if waited + options.poll_s > options.timeout_s:
            raise AlignlabError(f"stage {context.key!r}: {summary.written} of {required} records answered in Argilla "
                                f"dataset {config.dataset.name!r} after {waited:.0f} s (annotate.argilla.timeout_s "
                                f"{options.timeout_s:g}); annotators open {pushed.annotation_url}; run the pipeline "
                                "again to keep waiting")
        time.sleep(options.poll_s)


def run_annotate(context: Any) -> dict[str, Any]:
    from alignlab.annotation.simulated import SimulatedAnnotators, mean_agreement, panel_agreement
    from alignlab.data import audit_file, write_audit
    from alignlab.data.io import read_rows, write_jsonl
    from alignlab.utils.io import atomic_write_json

    options = AnnotateOptions.model_validate(context.spec.config)
    candidates = context.one("candidates", "candidates")
    rows = read_rows(candidates)
    folder = Path(context.dir)
    extra: dict[str, Any] = {}
    if options.source == "simulated":
        panel = SimulatedAnnotators(rule=context.pipeline.rule, annotators=options.annotators, noise=options.noise,
                                    position_bias=options.position_bias, seed=context.seed)
        batch = panel.annotate(rows, source=f"simulated/{context.pipeline.rule}")
        agreement = panel_agreement(batch)
        if options.mirror == "auto":
            extra["argilla"] = mirror_to_argilla(context, options.argilla, candidates)
    else:
        batch = collect_from_argilla(context, options.argilla, candidates, len(rows))
        agreement = {"records": len(batch), "mean_agreement": mean_agreement(batch)}
    for record in batch:
        record.setdefault("metadata", {})["round"] = context.round
    previous = context.one("previous", "preferences")
    earlier = read_rows(previous) if previous else []
    write_jsonl(folder / "batch.jsonl", batch)
    write_jsonl(folder / "records.jsonl", [*earlier, *batch])
    audit = audit_file(folder / "records.jsonl", "pairwise")
    write_audit(audit, folder / "audit")
    atomic_write_json(folder / "agreement.json", {"round": context.round, "batch": agreement, **extra})
    context.echo(f"{len(batch)} new pairs ({len(earlier) + len(batch)} in all); mean agreement "
                 f"{agreement.get('mean_agreement')}, Krippendorff alpha {agreement.get('krippendorff_alpha')}")
    metrics = {"new_pairs": len(batch), "total_pairs": len(earlier) + len(batch),
               **{k: v for k, v in agreement.items() if isinstance(v, int | float)}}
    return {"preferences": str(folder / "records.jsonl"), "batch": str(folder / "batch.jsonl"),
            "metrics": metrics, **extra}
