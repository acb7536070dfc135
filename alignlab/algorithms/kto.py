"""`alignlab train kto`: Kahneman-Tversky optimisation from unpaired thumbs-up/down data, on TRL's KTOTrainer.

    from alignlab.algorithms.kto import train_kto
    run = train_kto(load_config("configs/kto/tiny.yaml", KTOConfig))

The run is the offline core's recipe (`alignlab.algorithms.offline`: run directory, stable split, encoding, tiny policy,
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

from collections.abc import Iterable
from typing import Any

from alignlab.algorithms.offline import Columns, Echo, OfflineMethod, Sequences, train_offline, trainer_args
from alignlab.algorithms.preference_data import Encoder, Item, Split, encode_unpaired, unpair
from alignlab.config.dpo import KTOConfig
from alignlab.errors import DataError
from alignlab.hooks import CheckpointHook
from alignlab.models.lora import lora_config
from alignlab.runs import Run


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


def train_kto(config: KTOConfig, *, force: bool = False, echo: Echo = print,
              hooks: Iterable[CheckpointHook] = ()) -> Run:
    """Train a policy with KTO as `config` says; returns the finished run."""
    return train_offline(config, kto_method(config), force=force, echo=echo, hooks=hooks)


def kto_method(config: KTOConfig) -> OfflineMethod:
    from alignlab.launch.topology import current
    from alignlab.losses.kto import KTO_USES_KL

    batch = config.train.batch_size * current().world_size  # the global batch: KL pairs rotate inside it
    uses_kl = config.kto.loss_type in KTO_USES_KL

    def encode(split: Split, encoder: Encoder) -> Columns:
        columns = {"train": encode_unpaired(split.train, encoder, batch, uses_kl, config.data.weighting),
                   "eval": encode_unpaired(split.eval, encoder, batch, uses_kl, None)}
        _check_labels(columns["train"], config.data.path)
        return columns

    def sequences(columns: Columns) -> Sequences:
        out: Sequences = {}
        for name, cols in columns.items():
            if cols["prompt_ids"]:
                out[name] = {"ref_logps": (cols["prompt_ids"], cols["completion_ids"])}
                if uses_kl:
                    out[name]["ref_KL_logps"] = (cols["prompt_ids"], cols["KL_completion_ids"])
        return out

    return OfflineMethod("kto", converter(config), encode, sequences, build_kto_trainer,
                         encoding=lambda encoder: f"{encoder.description}/kl_batch={batch if uses_kl else 0}",
                         shuffle=True, summary=lambda columns: {"desirable": sum(columns["train"]["label"])})


def build_kto_trainer(config: KTOConfig, run: Run, policy: Any, tokenizer: Any, plan: Any,
                      datasets: dict[str, Any], callbacks: list[Any]) -> Any:
    from trl import KTOConfig as TRLKTOConfig

    from alignlab.backends.train.preference import AlignlabKTOTrainer, KTOObjective, UnpairedCollator

    kto = config.kto
    objective = KTOObjective(kto.loss_type, kto.beta, kto.desirable_weight, kto.undesirable_weight)
    args = trainer_args(config, run, TRLKTOConfig, has_eval="eval" in datasets, model=policy,
                        gradient_checkpointing=kto.gradient_checkpointing, beta=kto.beta, loss_type=kto.loss_type,
                        desirable_weight=kto.desirable_weight, undesirable_weight=kto.undesirable_weight,
                        precompute_ref_log_probs=bool(plan.columns))
    return AlignlabKTOTrainer(
        model=policy, ref_model=plan.ref_model, args=args, train_dataset=datasets["train"],
        eval_dataset=datasets.get("eval"), processing_class=tokenizer, peft_config=lora_config(config.lora),
        data_collator=UnpairedCollator(pad_token_id=tokenizer.pad_token_id), objective=objective,
        callbacks=callbacks,
    )


def _check_labels(columns: dict[str, Any], where: str) -> None:
    labels = columns["label"]
    if all(labels) or not any(labels):
        kind = "desirable" if labels and labels[0] else "undesirable"
        raise DataError(f"{where}: every training example is {kind}; KTO needs both thumbs-up and thumbs-down "
                        "examples (label true and false)")
