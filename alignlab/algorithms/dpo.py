"""`alignlab train dpo`: direct preference optimisation and its variants, on TRL's DPOTrainer.

    from alignlab.algorithms.dpo import train_dpo
    from alignlab.config import DPOConfig, load_config
    run = train_dpo(load_config("configs/dpo/tiny.yaml", DPOConfig))
    run.summary()["eval"]["rewards/accuracies"]       # held-out reward accuracy

What is particular to DPO: pairs (prompt, chosen, rejected) encoded with a shared prompt; reference log-probs of
both answers (none for the reference-free losses: SimPO, ORPO); TRL's DPOTrainer with our loss registry
(`alignlab.losses.preference`: the variants and their combinations). The rest of the run (data split, policy and
reference, cache, run directory, checkpoints, hooks, summary) is the offline core, `alignlab.algorithms.offline`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alignlab.algorithms.offline import Columns, Echo, OfflineMethod, Sequences, train_offline, trainer_args
from alignlab.algorithms.preference_data import Encoder, Split, as_pairs, encode_pairs
from alignlab.config.dpo import DPOConfig
from alignlab.hooks import CheckpointHook
from alignlab.models.lora import lora_config
from alignlab.runs import Run


def train_dpo(config: DPOConfig, *, force: bool = False, echo: Echo = print,
              hooks: Iterable[CheckpointHook] = ()) -> Run:
    """Train a policy with DPO (or a variant) as `config` says; returns the finished run."""
    return train_offline(config, dpo_method(config), force=force, echo=echo, hooks=hooks)


def dpo_method(config: DPOConfig) -> OfflineMethod:
    def encode(split: Split, encoder: Encoder) -> Columns:
        return {"train": encode_pairs(split.train, encoder, config.data.weighting),
                "eval": encode_pairs(split.eval, encoder, None)}

    def sequences(columns: Columns) -> Sequences:
        if not config.dpo.uses_reference():
            return {}
        return {name: {"ref_chosen_logps": (cols["prompt_ids"], cols["chosen_ids"]),
                       "ref_rejected_logps": (cols["prompt_ids"], cols["rejected_ids"])}
                for name, cols in columns.items() if cols["prompt_ids"]}

    return OfflineMethod("dpo", as_pairs, encode, sequences, build_dpo_trainer)


def build_dpo_trainer(config: DPOConfig, run: Run, policy: Any, tokenizer: Any, plan: Any,
                      datasets: dict[str, Any], callbacks: list[Any]) -> Any:
    from trl import DPOConfig as TRLDPOConfig

    from alignlab.backends.train.preference import AlignlabDPOTrainer, PreferenceCollator, PreferenceObjective

    dpo = config.dpo
    args = trainer_args(config, run, TRLDPOConfig, has_eval="eval" in datasets, model=policy,
                        gradient_checkpointing=dpo.gradient_checkpointing, beta=dpo.beta,
                        precompute_ref_log_probs=bool(plan.columns) or not dpo.uses_reference(),
                        train_sampling_strategy="group_by_length" if config.data.group_by_length else "random")
    objective = PreferenceObjective(tuple(dpo.loss_type), tuple(dpo.loss_weights) if dpo.loss_weights else None,
                                    dpo.beta, dpo.label_smoothing, dpo.simpo_gamma, dpo.discopop_tau,
                                    dpo.uses_reference())
    return AlignlabDPOTrainer(
        model=policy, ref_model=plan.ref_model, args=args, train_dataset=datasets["train"],
        eval_dataset=datasets.get("eval"), processing_class=tokenizer, peft_config=lora_config(config.lora),
        data_collator=PreferenceCollator(pad_token_id=tokenizer.pad_token_id), objective=objective,
        callbacks=callbacks,
    )
