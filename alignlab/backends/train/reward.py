"""Reward-model trainers: TRL's `RewardTrainer` extended for what it cannot do, in this one place.

- `PairwiseRewardTrainer` (a TRL `RewardTrainer`): Bradley-Terry with per-example weights, margins and reward
  centring from `alignlab.losses.reward`, a finite-loss check on every step that names the step, and
  shared-prompt packing. TRL's loss has margins and centring but no weights.
- `MultiAttributeTrainer` (a transformers `Trainer`): one output per attribute, regression plus an optional
  Bradley-Terry term on the weighted combination. TRL's RewardTrainer refuses models with more than one output.

Both read datasets that are already tokenized by `alignlab.models.reward.InputFormat.encode` (the function
scoring uses too), so training inputs and scoring inputs are the same token ids:

    pairwise rows: {"chosen_ids", "rejected_ids", "margin"?, "weight"?, "length", "packed_length"}
    ratings rows:  {"ids": [[...], ...], "targets": [[...], ...], "length"}   one group per prompt

Batching (`rm.batching`, picked from `BATCHING`):
- `padded`: random batches, chosen and rejected right-padded together to the longest sequence (TRL's way);
- `length_grouped`: batches drawn from shuffled mega-batches sorted by length (transformers'
  LengthGroupedSampler), so a batch pads to a length close to its own sequences';
- `shared_prompt` (pairs only): length-grouped, and each pair is one row `[shared prefix | chosen rest |
  rejected rest]` whose attention mask hides the chosen tokens from the rejected ones and whose position ids
  restart after the prefix, so the rejected tokens see exactly what they would see alone. The prompt (the
  tokens both sides share) is computed once instead of twice. Rewards are read at the last token of each
  side; they equal the unpacked model's to float rounding (a test checks it against `RewardModel.score`).
  On conversations whose prompt is most of the tokens (HH-RLHF) this removes a third or more of the work.
  When a batch's pairs differ enough in length, several pairs share a row (`alignlab.models.packing`,
  block-diagonal attention): fewer padded positions, the same rewards.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import torch
from transformers import Trainer
from transformers.modeling_outputs import SequenceClassifierOutput
from trl import RewardConfig, RewardTrainer

from alignlab.backends.train.hf import diverged, run_callback, trainer_arguments, use_progress_lines
from alignlab.errors import ConfigError
from alignlab.losses.reward import bradley_terry_loss, combined_reward, multi_attribute_loss
from alignlab.models.packing import PackLog, Unit, pack_units, packing_pays
from alignlab.models.reward import pad_right, shared_prefix_length
from alignlab.runs import Run

_PACK_LOG = PackLog()

# rm.batching -> (transformers sampling strategy, length column, packed rows?)
BATCHING = {
    "padded": ("random", "length", False),
    "length_grouped": ("group_by_length", "length", False),
    "shared_prompt": ("group_by_length", "packed_length", True),
}


@dataclass
class PairwiseCollator:
    """Chosen rows first, then rejected rows, right-padded together: input_ids (2B, T)."""

    pad_token_id: int

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        sequences = [e["chosen_ids"] for e in examples] + [e["rejected_ids"] for e in examples]
        input_ids, attention_mask = pad_right(sequences, self.pad_token_id)
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        for key in ("margin", "weight"):
            if key in examples[0]:
                batch[key] = torch.tensor([float(e[key]) for e in examples])
        return batch


@dataclass
class SharedPromptCollator:
    """One unit per pair, `[prefix | chosen rest | rejected rest]`: input_ids and position_ids (R, T), a 4-D
    boolean attention mask (R, 1, T, T), and where each side ends: chosen_row, chosen_end, rejected_row,
    rejected_end (B,). A unit per row, or several to a row (`alignlab.models.packing`) when the batch's units
    differ enough in length that packing runs PACK_MIN_SAVING fewer token positions (the choice is logged)."""

    pad_token_id: int

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        units, ends = zip(*(_shared_unit(e["chosen_ids"], e["rejected_ids"]) for e in examples), strict=True)
        lengths = [len(unit) for unit in units]
        pack, saving = packing_pays(lengths, len(lengths) * max(lengths))
        _PACK_LOG("reward-model pair rows", pack, saving)
        packed = pack_units(units, self.pad_token_id, capacity=max(lengths) if pack else None)
        rows = [row for row, _ in packed.places]
        offsets = [offset for _, offset in packed.places]
        batch = {"input_ids": packed.input_ids, "position_ids": packed.position_ids,
                 "attention_mask": packed.attention_mask,
                 "chosen_row": torch.tensor(rows), "rejected_row": torch.tensor(rows),
                 "chosen_end": torch.tensor([o + c for o, (c, _) in zip(offsets, ends, strict=True)]),
                 "rejected_end": torch.tensor([o + r for o, (_, r) in zip(offsets, ends, strict=True)]),
                 # TRL's num_tokens: the tokens of both sides (the shared prompt counts twice, as unpacked).
                 "num_tokens": torch.tensor(sum(len(e["chosen_ids"]) + len(e["rejected_ids"]) for e in examples))}
        for key in ("margin", "weight"):
            if key in examples[0]:
                batch[key] = torch.tensor([float(e[key]) for e in examples])
        return batch


def _shared_unit(chosen: list[int], rejected: list[int]) -> tuple[Unit, tuple[int, int]]:
    """The pair as one packing unit (rejected tokens never see the chosen rest; their positions restart after
    the prefix) and the unit-local indices of each side's last token."""
    prefix = shared_prefix_length(chosen, rejected)
    ids = list(chosen) + list(rejected[prefix:])
    positions = list(range(len(chosen))) + list(range(prefix, len(rejected)))
    hidden = ((len(chosen), len(ids), prefix, len(chosen)),)
    return Unit(ids, positions, hidden), (len(chosen) - 1, len(ids) - 1)


def split_classifier(model: Any) -> tuple[Any, Any]:
    """(backbone, score head) of a decoder sequence classifier, through a PEFT wrapper if there is one."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    backbone = getattr(inner, getattr(inner, "base_model_prefix", ""), None)
    head = getattr(inner, "score", None)
    if backbone is None or head is None:
        raise ConfigError(f"rm.batching: shared_prompt needs a decoder sequence classifier with a `score` head "
                          f"({type(inner).__name__} has none); set rm.batching: length_grouped")
    return backbone, head


def pair_rewards(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(chosen rewards, rejected rewards), each (B,), from a packed or a padded pairwise batch.

    `model` may be wrapped for several processes (DDP, DeepSpeed): the wrapper is looked through to find the
    score head, but the forward runs through it, so the wrapper sees the pass and syncs the gradients."""
    if "chosen_end" not in batch:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits
        rewards_chosen, rewards_rejected = torch.chunk(logits.squeeze(-1), chunks=2)  # (B,), (B,)
        return rewards_chosen, rewards_rejected
    from accelerate.utils import extract_model_from_parallel

    _, head = split_classifier(extract_model_from_parallel(model))
    scores: list[torch.Tensor] = []  # the head's output at every position: (B, T, 1)
    handle = head.register_forward_hook(lambda _module, _inputs, output: scores.append(output))
    try:
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
              position_ids=batch["position_ids"], use_cache=False)
    finally:
        handle.remove()
    per_position = scores[-1].squeeze(-1)  # (R, T); the classifier's own pooled logit is not used
    return (per_position[batch["chosen_row"], batch["chosen_end"]],
            per_position[batch["rejected_row"], batch["rejected_end"]])  # (B,), (B,)


@dataclass
class RatingsCollator:
    """Groups of responses to one prompt, flattened: input_ids (N, T), targets (N, A), and the pairs
    (better_index, worse_index) of responses in a group whose weighted targets differ."""

    pad_token_id: int
    attribute_weights: list[float]

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        sequences, targets, better, worse = [], [], [], []
        for group in examples:
            start = len(sequences)
            sequences += group["ids"]
            targets += group["targets"]
            scores = [sum(w * t for w, t in zip(self.attribute_weights, row, strict=True)) for row in group["targets"]]
            for i in range(len(scores)):
                for j in range(len(scores)):
                    if scores[i] > scores[j]:
                        better.append(start + i)
                        worse.append(start + j)
        input_ids, attention_mask = pad_right(sequences, self.pad_token_id)
        return {"input_ids": input_ids, "attention_mask": attention_mask,
                "targets": torch.tensor(targets, dtype=torch.float),
                "better_index": torch.tensor(better, dtype=torch.long),
                "worse_index": torch.tensor(worse, dtype=torch.long)}


class _StepChecks:
    """Shared by both trainers: stop on a non-finite loss at the step it happens, and average logged metrics."""

    where: str

    def _check_finite(self, name: str, loss: torch.Tensor) -> None:
        value = float(loss.detach())
        if not math.isfinite(value):
            raise diverged(name, value, self.state.global_step + 1, self.where)


class PairwiseRewardTrainer(_StepChecks, RewardTrainer):
    """TRL's RewardTrainer with `alignlab.losses.reward.bradley_terry_loss` (weights, margins, centring)."""

    def __init__(self, *args: Any, where: str = "", **kwargs: Any) -> None:
        from alignlab.metrics.utilisation import attach_meter

        self.where = where
        super().__init__(*args, **kwargs)
        self._meter = attach_meter(self)  # achieved FLOP/s and share of the measured peak in the train logs

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:
            from alignlab.metrics.utilisation import training_dtype

            logs.update(self._meter.report(training_dtype(self.args)))
        super().log(logs, start_time)

    def _set_signature_columns_if_needed(self) -> None:
        if self._signature_columns is None:
            self._signature_columns = ["chosen_ids", "rejected_ids", "margin", "weight", "length", "packed_length"]

    def create_model_card(self, *args: Any, **kwargs: Any) -> None:
        """alignlab writes its own model card (with evaluation metrics) beside the final model."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: ANN001 - HF
        mode = "train" if self.model.training else "eval"
        rewards_chosen, rewards_rejected = pair_rewards(model, inputs)
        loss = bradley_terry_loss(rewards_chosen, rewards_rejected, margin=inputs.get("margin"),
                                  weight=inputs.get("weight"),
                                  center_coefficient=self.args.center_rewards_coefficient)
        rewards = torch.cat([rewards_chosen, rewards_rejected])  # (2B,): chosen first, as TRL's logits
        with torch.no_grad():
            if mode == "train":
                self._check_finite("loss", loss)
                tokens = inputs["num_tokens"] if "num_tokens" in inputs else inputs["attention_mask"].sum()
                # The tokens the model ran: a packed row holds the shared prompt once.
                ran = (inputs["rejected_end"] + 1).sum() if "rejected_end" in inputs else inputs["attention_mask"].sum()
                self._meter.count(int(ran), trained=True)
                self._total_train_tokens += int(self.accelerator.gather(tokens.reshape(1)).sum())  # all ranks
            # Every rank's pairs, so that the logged metrics are the global batch's (one process logs them);
            # gather_for_metrics drops the pairs accelerate repeats to even out the last batch.
            pairs = self.accelerator.gather_for_metrics(torch.stack([rewards_chosen, rewards_rejected], dim=1))
            chosen, rejected = pairs[:, 0], pairs[:, 1]  # (B * processes,)
            metrics = self._metrics[mode]
            metrics["num_tokens"] = [self._total_train_tokens]
            metrics["accuracy"].append((chosen > rejected).float().mean().item())
            metrics["margin"].append((chosen - rejected).mean().item())
            metrics["mean_reward"].append(pairs.mean().item())
        return (loss, SequenceClassifierOutput(logits=rewards.unsqueeze(-1))) if return_outputs else loss


class MultiAttributeTrainer(_StepChecks, Trainer):
    """A Trainer for models with one output per attribute (`multi_attribute_loss`)."""

    def __init__(self, *args: Any, attribute_weights: list[float], bt_coefficient: float, where: str = "",
                 **kwargs: Any) -> None:
        self.where = where
        self.attribute_weights = torch.tensor(attribute_weights)
        self.bt_coefficient = bt_coefficient
        self._metrics: dict[str, list[float]] = defaultdict(list)
        super().__init__(*args, **kwargs)
        self.can_return_loss = True
        self.label_names = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: ANN001 - HF
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], use_cache=False)
        predicted = outputs.logits  # (N, A)
        weights = self.attribute_weights.to(predicted.device)
        loss, parts = multi_attribute_loss(predicted, inputs["targets"], weights, inputs["better_index"],
                                           inputs["worse_index"], self.bt_coefficient)
        if self.model.training:
            self._check_finite("loss", loss)
        with torch.no_grad():
            scores = combined_reward(predicted, weights)
            correct = (scores[inputs["better_index"]] > scores[inputs["worse_index"]]).sum()
            # One row per rank, summed over ranks: the logged metrics cover the global batch. Every rank joins
            # the gather, also one whose groups hold no ordered pair (a rank-dependent collective would hang).
            local = torch.stack([parts["mse"].detach(), parts["bt"].detach(), correct.float(),
                                 torch.tensor(float(inputs["better_index"].numel()), device=scores.device)])
            mse, bt, correct_pairs, pairs = self.accelerator.gather(local.unsqueeze(0)).sum(dim=0).tolist()
            processes = self.accelerator.num_processes
            self._metrics["mse"].append(mse / processes)
            self._metrics["bt"].append(bt / processes)
            if pairs:
                self._metrics["accuracy"].append(correct_pairs / pairs)
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        logs.update({key: sum(values) / len(values) for key, values in self._metrics.items() if values})
        self._metrics.clear()
        super().log(logs, start_time)


def _arguments(config_cls: type, run: Run, train: Any, seed: int, batching: str, **extra: Any) -> Any:
    strategy, length_column, _ = BATCHING[batching]
    return trainer_arguments(config_cls, run=run, train=train, seed=seed, train_sampling_strategy=strategy,
                             length_column_name=length_column, **extra)


def lora_model(model: Any, lora: dict[str, Any]) -> Any:
    """Wrap a sequence classifier in LoRA adapters; the score head is trained in full (modules_to_save)."""
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=lora["r"], lora_alpha=lora["alpha"],
                        lora_dropout=lora["dropout"], target_modules=lora["target_modules"],
                        modules_to_save=["score"])
    return get_peft_model(model, config)


def pairwise_trainer(model: Any, tokenizer: Any, train_rows: Any, *, run: Run, train: Any, seed: int,
                     batching: str = "shared_prompt", center_rewards_coefficient: float | None = None,
                     echo: Any = print) -> Any:
    """A `PairwiseRewardTrainer` writing checkpoints and metrics into `run`."""
    args = _arguments(RewardConfig, run, train, seed, batching, model=model,
                      center_rewards_coefficient=center_rewards_coefficient, disable_dropout=True)
    args.max_length = None  # rows are truncated by InputFormat.encode, never dropped
    packed = BATCHING[batching][2]
    if packed:
        split_classifier(model)  # fail before training when the model cannot be packed
    collator = (SharedPromptCollator if packed else PairwiseCollator)(tokenizer.pad_token_id)
    trainer = PairwiseRewardTrainer(model=model, args=args, train_dataset=train_rows, processing_class=tokenizer,
                                    data_collator=collator,
                                    callbacks=[run_callback(run)], where=str(run.dir))
    return use_progress_lines(trainer, echo, ("loss", "accuracy", "margin"))


def regression_trainer(model: Any, tokenizer: Any, train_rows: Any, *, run: Run, train: Any, seed: int,
                       attribute_weights: list[float], bt_coefficient: float = 0.0,
                       batching: str = "length_grouped", echo: Any = print) -> Any:
    """A `MultiAttributeTrainer` writing checkpoints and metrics into `run`."""
    from transformers import TrainingArguments

    args = _arguments(TrainingArguments, run, train, seed, batching, model=model, remove_unused_columns=False)
    trainer = MultiAttributeTrainer(model=model, args=args, train_dataset=train_rows, processing_class=tokenizer,
                                    data_collator=RatingsCollator(tokenizer.pad_token_id, attribute_weights),
                                    callbacks=[run_callback(run)], attribute_weights=attribute_weights,
                                    bt_coefficient=bt_coefficient, where=str(run.dir))
    return use_progress_lines(trainer, echo, ("loss", "mse", "bt", "accuracy"))
