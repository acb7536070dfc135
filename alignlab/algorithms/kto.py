"""`alignlab train kto`: Kahneman-Tversky optimisation from unpaired thumbs-up/down data, on TRL's KTOTrainer.

    from alignlab.algorithms.kto import train_kto
    run = train_kto(load_config("configs/kto/tiny.yaml", KTOConfig))

The run follows `alignlab.algorithms.dpo` step for step (run directory, stable split, encoding, tiny policy,
reference cache, trainer, resume, held-out evaluation, checkpoint hooks); what differs is here:

- Data: unpaired records (prompt, completion, label). Pairs, rankings and ratings are accepted only with
  `data.unpair: true`, which turns each pair into a desirable (chosen) and an undesirable (rejected) example.
- Order: KTO estimates its reference point z0 from mismatched completions within a batch, built as TRL does by
  rotating completions by one inside consecutive batches of the global batch (`train.batch_size` times the
  number of processes), so that N processes with per-device batch B train on the same pairs as one process with
  batch N*B.
  The training examples are shuffled once with `run.seed` instead (a sorted file would otherwise give batches of
  one label).
- "Reward accuracy" (train and held-out): the share of (desirable, undesirable) example pairs within a global
  batch whose implicit rewards are in the right order (`alignlab.backends.train.preference.AlignlabKTOTrainer`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from alignlab.algorithms.dpo import (
    CheckpointHook,
    Echo,
    data_summary,
    fill_reference,
    finished_run,
    hook_callback,
    load_policy,
    load_reference,
    lora_config,
    make_dataset,
    open_training_run,
    plan_reference,
    run_trainer,
    trainer_args,
)
from alignlab.algorithms.preference_data import Encoder, Item, as_pairs, example_trust, read_split, trust_columns
from alignlab.config.dpo import KTOConfig, WeightingSection
from alignlab.errors import DataError
from alignlab.runs import Run

_CARRIED = ("id", "weight", "agreement", "margin", "source", "category", "annotators", "metadata")


def unpair(fmt: str, items: list[Item]) -> list[Item]:
    """Two unpaired items per pair: chosen -> label true, rejected -> label false (annotations carried)."""
    out: list[Item] = []
    for where, pair in as_pairs(fmt, items):
        carried = {name: pair[name] for name in _CARRIED if name in pair}
        for side, label in (("chosen", True), ("rejected", False)):
            record = {**carried, "prompt": pair["prompt"], "completion": pair[side], "label": label}
            if "id" in carried:
                record["id"] = f"{carried['id']}-{side}"
            out.append((f"{where} ({side})", record))
    return out


def converter(config: KTOConfig):
    def convert(fmt: str, items: list[Item]) -> list[Item]:
        if fmt == "unpaired":
            return items
        if not config.data.unpair:
            where = items[0][0] if items else config.data.path
            raise DataError(f"{where}: {fmt} data given to KTO, which trains on unpaired examples (prompt, "
                            "completion, label); set data.unpair: true to use both sides of each pair")
        return unpair(fmt, items)

    return convert


def rotate_within_batches(completions: list[list[int]], batch_size: int) -> list[list[int]]:
    """KL completions as TRL forms them: inside each run of `batch_size` examples, example i gets the
    completion of example i-1 (the first gets the last): (x_1, y_n), (x_2, y_1), ..., (x_n, y_{n-1})."""
    out: list[list[int]] = []
    for first in range(0, len(completions), batch_size):
        chunk = completions[first:first + batch_size]
        out.extend([chunk[-1], *chunk[:-1]])
    return out


def encode_unpaired(items: list[Item], encoder: Encoder, batch_size: int, uses_kl: bool,
                    weighting: WeightingSection | None) -> dict[str, list]:
    """KTO columns: prompt_ids, completion_ids, label, KL_completion_ids (when used), weight."""
    from alignlab.data import to_trl

    columns: dict[str, list] = {"prompt_ids": [], "completion_ids": [], "label": []}
    kept: list[dict] = []
    for where, record in items:
        row = to_trl(record, "unpaired", encoder.style)
        encoded = encoder.encode(row["prompt"], [row["completion"]], where)
        if encoded is None:
            continue
        prompt, (completion,) = encoded
        columns["prompt_ids"].append(prompt)
        columns["completion_ids"].append(completion)
        columns["label"].append(bool(record["label"]))
        kept.append(record)
    if uses_kl:
        columns["KL_completion_ids"] = rotate_within_batches(columns["completion_ids"], batch_size)
    if weighting is not None:
        columns.update(trust_columns(example_trust(kept, weighting, items[0][0] if items else "data"), weighting))
    return columns


def kto_sequences(columns: dict[str, dict[str, list]], uses_kl: bool) -> dict[str, dict[str, tuple[list, list]]]:
    sequences = {}
    for name, cols in columns.items():
        if not cols["prompt_ids"]:
            continue
        sequences[name] = {"ref_logps": (cols["prompt_ids"], cols["completion_ids"])}
        if uses_kl:
            sequences[name]["ref_KL_logps"] = (cols["prompt_ids"], cols["KL_completion_ids"])
    return sequences


def train_kto(config: KTOConfig, *, force: bool = False, echo: Echo = print,
              hooks: Iterable[CheckpointHook] = ()) -> Run:
    """Train a policy with KTO as `config` says; returns the finished run."""
    from alignlab.losses.kto import KTO_USES_KL

    done = finished_run(config, force, echo)
    if done is not None:
        return done
    split = read_split(config.data, converter(config))
    random.Random(config.run.seed).shuffle(split.train)
    policy, tokenizer = load_policy(config, split)
    encoder = Encoder.for_data(tokenizer, config.data)
    from alignlab.launch.topology import current

    kto, batch = config.kto, config.train.batch_size * current().world_size  # the global batch
    uses_kl = kto.loss_type in KTO_USES_KL
    columns = {"train": encode_unpaired(split.train, encoder, batch, uses_kl, config.data.weighting),
               "eval": encode_unpaired(split.eval, encoder, batch, uses_kl, None)}
    _check_labels(columns["train"], config.data.path)
    encoding = f"{encoder.description}/kl_batch={batch if uses_kl else 0}"
    sequences = kto_sequences(columns, uses_kl)
    plan = plan_reference(config, "kto", policy, load_reference(config, tokenizer), tokenizer, encoding, sequences)
    run = open_training_run(config, force)  # everything a user can get wrong has been checked by now
    plan = fill_reference(plan, config, tokenizer, sequences, echo)

    from trl import KTOConfig as TRLKTOConfig

    from alignlab.backends.train.hf import run_callback
    from alignlab.backends.train.preference import AlignlabKTOTrainer, KTOObjective, UnpairedCollator

    datasets = {name: make_dataset(cols, plan.columns.get(name))
                for name, cols in columns.items() if cols["prompt_ids"]}
    objective = KTOObjective(kto.loss_type, kto.beta, kto.desirable_weight, kto.undesirable_weight)
    args = trainer_args(config, run, TRLKTOConfig, has_eval="eval" in datasets,
                        gradient_checkpointing=kto.gradient_checkpointing, beta=kto.beta, loss_type=kto.loss_type,
                        desirable_weight=kto.desirable_weight, undesirable_weight=kto.undesirable_weight,
                        precompute_ref_log_probs=bool(plan.columns))
    trainer = AlignlabKTOTrainer(
        model=policy, ref_model=plan.ref_model, args=args, train_dataset=datasets["train"],
        eval_dataset=datasets.get("eval"), processing_class=tokenizer, peft_config=lora_config(config.lora),
        data_collator=UnpairedCollator(pad_token_id=tokenizer.pad_token_id), objective=objective,
        callbacks=[run_callback(run), hook_callback(list(hooks), config.eval.hooks, tokenizer, run)],
    )
    summary = data_summary("kto", split, columns, encoder, plan)
    summary["data"]["desirable"] = sum(columns["train"]["label"])
    return run_trainer(trainer, run, tokenizer, list(hooks), config.eval.hooks, summary, echo)


def _check_labels(columns: dict[str, Any], where: str) -> None:
    labels = columns["label"]
    if all(labels) or not any(labels):
        kind = "desirable" if labels and labels[0] else "undesirable"
        raise DataError(f"{where}: every training example is {kind}; KTO needs both thumbs-up and thumbs-down "
                        "examples (label true and false)")
