"""TRL's DPOTrainer and KTOTrainer, adapted: the one place alignlab subclasses them.

TRL keeps the training loop, checkpointing, PEFT wrapping, the fused log-prob LM head and the reference model.
What changes here:

- **Data** arrives tokenized by alignlab (`alignlab.algorithms.dpo.encode_*`: chat template, stated truncation
  policy), so `_prepare_dataset` passes it through; the collators also carry per-example `weight` and
  `label_smoothing` (agreement-aware training).
- **Reference log-probs** come from alignlab's cache (`alignlab.backends.train.refcache`), computed once by
  `reference_logps` in length-sorted batches; `_precompute_ref_logps` passes cached columns through, so TRL
  keeps no reference model in memory. Without the cache the reference runs beside the policy, as in TRL.
- **The loss** is alignlab's pure functions (`alignlab.losses.preference.preference_loss`,
  `alignlab.losses.kto.kto_loss`), picked when the config loaded, with per-example weights applied as
  importance weights (mean of w_i * loss_i).
- **Padding**: the policy's forward runs the batch's sequences in length groups, each padded only to its own
  longest sequence (`grouped_sequence_logps`): the same examples per step, the same gradient, less padding.
  TRL pads every chosen and rejected sequence of a batch to the longest one.
- **Metrics** per logged step: loss, rewards (chosen, rejected, accuracies, margins), log-probs, and
  `offline_log_ratio` (DPO; also logged under its old name `kl_estimate`) = mean of log pi(y|x) - log pi_ref(y|x)
  over the batch's chosen and rejected responses. It is *not* a KL: a KL averages that log-ratio over responses
  sampled from the policy, and is never negative; these responses come from the dataset. DPO raises the chosen
  answers' likelihood relative to the rejected ones and usually lowers both in absolute terms (rejected ones
  much more), so on offline data the value drifts negative, often to tens of nats: the policy moved away from
  *these* texts, not towards nothing. For a real KL sample from the policy (the pipeline's eval stage reports
  `sampled_kl`, `alignlab.metrics.generation`). KTO's `kl_estimate` is the same log-ratio on its data. KTO also logs
  `kl`, its reference point z0; its `rewards/accuracies` has no pairs to compare, so it is the share of
  (desirable, undesirable) example pairs within a batch whose implicit rewards are in the right order (an AUC).
  The fused head computes log-probs only, not TRL's entropy/logit statistics.
- **Several processes**: metrics are per-example values gathered from every rank with `gather_for_metrics` (the
  examples accelerate repeats to even out the last evaluation batch are dropped), every rank making the same
  collective calls whatever its batch holds; KTO's per-label metrics and z0 are computed over the global batch
  (z0 = max(0, mean over every rank's mismatched pairs)), so a run on N processes with per-device batch B logs
  what one process with batch N*B logs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from trl import DPOTrainer, KTOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference
from trl.trainer.kto_trainer import DataCollatorForUnpairedPreference
from trl.trainer.utils import add_fused_lm_head

from alignlab.backends.train.grouping import length_groups
from alignlab.backends.train.prefix_sharing import (
    MIN_SAVING,
    ChoiceLog,
    Pairs,
    batch_rows,
    pack_shared,
    padded_tokens,
    pair_rows,
    pairs_from_batch,
    pairs_tokens,
    shared_length,
    shared_logps,
    shared_pays,
)
from alignlab.losses.kto import KTO_USES_KL, kto_loss
from alignlab.losses.preference import preference_loss
from alignlab.metrics.utilisation import attach_meter
from alignlab.models.packing import PackLog, packing_pays

_EXTRA_COLUMNS = ("weight", "label_smoothing")
_PACK_LOG = PackLog()


@dataclass(frozen=True)
class PreferenceObjective:
    """The DPO-family objective a trainer optimises (plain values from `config.dpo`)."""

    loss_type: tuple[str, ...] = ("sigmoid",)
    loss_weights: tuple[float, ...] | None = None
    beta: float = 0.1
    label_smoothing: float = 0.0
    simpo_gamma: float = 0.5
    discopop_tau: float = 0.05
    uses_reference: bool = True


@dataclass(frozen=True)
class KTOObjective:
    loss_type: str = "kto"
    beta: float = 0.1
    desirable_weight: float = 1.0
    undesirable_weight: float = 1.0

    @property
    def uses_kl(self) -> bool:
        return self.loss_type in KTO_USES_KL


def patch_log_prob_head(model: Any) -> None:
    """Make `model(..., labels=, fused_lm_head=True)` return per-token log-probs only (TRL's chunked head
    without its entropy/logit statistics). Patches the base model under a PEFT wrapper."""
    from accelerate.utils import is_peft_model

    base = model.get_base_model() if is_peft_model(model) else model
    add_fused_lm_head(base, outputs=("log_probs",))


def sequence_logps(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                   completion_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probs of the completion tokens (N,) and their counts (N,), for right-padded (N, T) inputs."""
    labels = input_ids.masked_fill(completion_mask == 0, -100)
    out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, fused_lm_head=True,
                use_cache=False)
    per_token = out.log_probs[:, -(input_ids.size(1) - 1):]  # (N, T-1); prompt-tuning PEFT prepends tokens
    return per_token.sum(-1), completion_mask[:, 1:].sum(-1)


def grouped_sequence_logps(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                           completion_mask: torch.Tensor, *,
                           pack: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """`sequence_logps` over the same rows, run in length groups each padded only to its own longest row, or
    packed several to a row (`alignlab.models.packing`) when that runs enough fewer token positions. `pack`
    forces a side (benchmarks).

    The batch (and so the gradient) is unchanged; only padding is skipped. Rows are right-padded and attention
    is causal, so a row's log-probs do not depend on the columns after its end (equal up to float rounding).
    """
    from alignlab.launch.topology import forwards_are_collective

    lengths = attention_mask.sum(-1).tolist()
    # Under ZeRO-3/FSDP every forward gathers weights from all ranks: each rank must run as many as the others
    # (one forward: a packed batch is one forward too).
    collective = forwards_are_collective()
    if pack is None:
        pack, saving = packing_pays(lengths, padded_tokens(lengths, grouped=not collective)) if min(lengths) else (
            False, 0.0)
        _PACK_LOG("separate forwards", pack, saving)
    if pack:
        rows = batch_rows(input_ids, attention_mask, completion_mask)
        packed = pack_shared([p for p, _ in rows], [c for _, c in rows], [[] for _ in rows], pad_id=0,
                             capacity=max(lengths)).to(input_ids.device)
        logps, _, counts, _ = shared_logps(model, packed)
        return logps, counts
    groups = [list(range(len(lengths)))] if collective else length_groups(lengths)
    if len(groups) == 1:
        width = max(lengths)
        return sequence_logps(model, input_ids[:, :width], attention_mask[:, :width], completion_mask[:, :width])
    logps, counts = [], []
    for group in groups:
        index, width = torch.tensor(group, device=input_ids.device), max(lengths[i] for i in group)
        part = sequence_logps(model, input_ids[index, :width], attention_mask[index, :width],
                              completion_mask[index, :width])
        logps.append(part[0])
        counts.append(part[1])
    order = torch.tensor([i for group in groups for i in group], device=input_ids.device)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order), device=order.device)
    return torch.cat(logps)[inverse], torch.cat(counts)[inverse]


def paired_logps(model: Any, pairs: Pairs | None, separate: tuple[torch.Tensor, ...], *, second_cost: float = 1.0,
                 log: ChoiceLog | None = None, share: bool | None = None) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Summed log-probs and counts (2N,) of a paired batch, `[first rows..., second rows...]`, and whether the
    prompt was shared: one row per pair (`prefix_sharing`) when `pairs` share prompts and that saves enough
    token positions, else `grouped_sequence_logps` over `separate` = (input_ids, attention_mask,
    completion_mask) of the 2N rows. Equal either way to float rounding. `share` forces a side (benchmarks)."""
    from alignlab.launch.topology import forwards_are_collective

    saving = 0.0
    if pairs is None:
        share = False
    elif share is None:
        share, saving = shared_pays(pairs, grouped=not forwards_are_collective(), second_cost=second_cost)
    if log is not None:
        log(share, saving)
    if not share:
        return (*grouped_sequence_logps(model, *separate), False)
    first, second, first_count, second_count = grouped_shared_logps(model, pairs, separate[0].device)
    return torch.cat([first, second]), torch.cat([first_count, second_count]), True


def grouped_shared_logps(model: Any, pairs: Pairs, device: torch.device) -> tuple[torch.Tensor, ...]:
    """`shared_logps` over shared rows run in length groups, each padded only to its own longest row (one group
    under ZeRO-3/FSDP, where every rank must run as many forwards as the others), or packed several to a row
    when that runs enough fewer token positions; in the pairs' order."""
    from alignlab.launch.topology import forwards_are_collective

    lengths = [shared_length(len(p), len(a), len(b))
               for p, a, b in zip(pairs.prompts, pairs.firsts, pairs.seconds, strict=True)]
    collective = forwards_are_collective()
    pack, saving = packing_pays(lengths, padded_tokens(lengths, grouped=not collective))
    _PACK_LOG("prompt-shared rows", pack, saving)
    if pack:
        return shared_logps(model, pack_shared(pairs.prompts, pairs.firsts, pairs.seconds, pad_id=0,
                                               capacity=max(lengths)).to(device))
    groups = [list(range(len(lengths)))] if collective else length_groups(lengths)
    parts = []
    for group in groups:
        rows = pack_shared([pairs.prompts[i] for i in group], [pairs.firsts[i] for i in group],
                           [pairs.seconds[i] for i in group], pad_id=0).to(device)
        parts.append(shared_logps(model, rows))
    inverse = torch.empty(len(lengths), dtype=torch.long)
    inverse[torch.tensor([i for group in groups for i in group])] = torch.arange(len(lengths))
    inverse = inverse.to(device)
    return tuple(torch.cat([part[k] for part in parts])[inverse] for k in range(4))


def pad_right(prompts: Sequence[list[int]], completions: Sequence[list[int]],
              pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask, completion_mask), each (N, T), for prompt + completion sequences."""
    width = max(len(p) + len(c) for p, c in zip(prompts, completions, strict=True))
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(prompts), width), dtype=torch.long)
    completion = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, (prompt, answer) in enumerate(zip(prompts, completions, strict=True)):
        end = len(prompt) + len(answer)
        input_ids[row, :end] = torch.tensor(prompt + answer, dtype=torch.long)
        attention[row, :end] = 1
        completion[row, len(prompt):end] = 1
    return input_ids, attention, completion


def reference_logps(model: Any, prompts: Sequence[list[int]], completions: Sequence[list[int]], *, pad_id: int,
                    batch_size: int, adapter_disabled: bool = False) -> torch.Tensor:
    """log pi_ref(completion | prompt) for every sequence (N,), float32 on CPU.

    Batches are formed in length order (the order does not matter for a frozen model, and sorted batches hold
    almost no padding); with `adapter_disabled` a PEFT model runs as its base model.
    """
    patch_log_prob_head(model)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]) + len(completions[i]))
    result = torch.empty(len(prompts), dtype=torch.float32)
    device = next(model.parameters()).device
    with frozen(model, adapter_disabled):
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            batch = pad_right([prompts[i] for i in index], [completions[i] for i in index], pad_id)
            logps, _ = sequence_logps(model, *(t.to(device) for t in batch))
            result[index] = logps.float().cpu()
    return result


@contextlib.contextmanager
def frozen(model: Any, adapter_disabled: bool = False) -> Iterator[None]:
    """Eval mode without autograd (and with a PEFT adapter off when asked) for a reference pass; the model's
    training mode is restored afterwards, also when the pass fails."""
    adapter = model.disable_adapter() if adapter_disabled else contextlib.nullcontext()
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), adapter:
            yield
    finally:
        model.train(was_training)


def reference_column_logps(model: Any, columns: dict[str, tuple[list, list]], *, pad_id: int, batch_size: int,
                           adapter_disabled: bool = False) -> dict[str, torch.Tensor]:
    """`reference_logps` for each column {name: (prompts, completions)}; two columns holding the same prompts
    (DPO's chosen and rejected, KTO's completion and KL completion) run as one shared row per pair
    (`alignlab.backends.train.prefix_sharing`) when that saves enough tokens: the prompt is computed once."""
    names, result = list(columns), {}
    while names:
        name = names.pop(0)
        prompts, completions = columns[name]
        partner = next((other for other in names if columns[other][0] == prompts), None)
        pairs = Pairs(prompts, completions, columns[partner][1]) if partner is not None else None
        if pairs is not None and all(pairs.prompts) and _shared_saving(pairs) >= MIN_SAVING:
            names.remove(partner)
            result[name], result[partner] = shared_reference_logps(model, pairs, pad_id=pad_id,
                                                                   batch_size=max(1, batch_size // 2),
                                                                   adapter_disabled=adapter_disabled)
            continue
        result[name] = reference_logps(model, prompts, completions, pad_id=pad_id, batch_size=batch_size,
                                       adapter_disabled=adapter_disabled)
    return result


def _shared_saving(pairs: Pairs) -> float:
    """Share of tokens one shared row per pair saves over two sorted (nearly unpadded) separate passes."""
    separate = sum(2 * len(p) + len(a) + len(b)
                   for p, a, b in zip(pairs.prompts, pairs.firsts, pairs.seconds, strict=True))
    return 1.0 - pairs_tokens(pairs) / max(separate, 1)


def shared_reference_logps(model: Any, pairs: Pairs, *, pad_id: int, batch_size: int,
                           adapter_disabled: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """log pi_ref of both continuations of every pair (N,), (N,), float32 on CPU: one shared row per pair,
    in batches of `batch_size` rows formed in length order."""
    patch_log_prob_head(model)
    lengths = [shared_length(len(p), len(a), len(b))
               for p, a, b in zip(pairs.prompts, pairs.firsts, pairs.seconds, strict=True)]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    first = torch.empty(len(lengths), dtype=torch.float32)
    second = torch.empty(len(lengths), dtype=torch.float32)
    device = next(model.parameters()).device
    with frozen(model, adapter_disabled):
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            rows = pack_shared([pairs.prompts[i] for i in index], [pairs.firsts[i] for i in index],
                               [pairs.seconds[i] for i in index], pad_id).to(device)
            first_logps, second_logps, _, _ = shared_logps(model, rows)
            first[index], second[index] = first_logps.float().cpu(), second_logps.float().cpu()
    return first, second


class PreferenceCollator(DataCollatorForPreference):
    """TRL's preference collator plus the per-example `weight` / `label_smoothing` columns when present."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        return _with_extras(super().torch_call(examples), examples)


class UnpairedCollator(DataCollatorForUnpairedPreference):
    """TRL's unpaired (KTO) collator plus the per-example `weight` column when present."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        return _with_extras(super().torch_call(examples), examples)


def _with_extras(batch: dict[str, Any], examples: list[dict[str, Any]]) -> dict[str, Any]:
    for column in _EXTRA_COLUMNS:
        if column in examples[0]:
            batch[column] = torch.tensor([example[column] for example in examples], dtype=torch.float32)
    return batch


class _AlignlabTrainerMixin:
    """What both adapters share: encoded datasets and cached reference columns pass through TRL untouched."""

    _ref_columns: tuple[str, ...] = ()

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):  # noqa: ANN001 - TRL's signature
        if "prompt_ids" in dataset.column_names:
            return dataset
        return super()._prepare_dataset(dataset, processing_class, args, dataset_name)

    def _precompute_ref_logps(self, dataset, name, batch_size):  # noqa: ANN001 - TRL's signature
        if all(column in dataset.column_names for column in self._ref_columns):
            return dataset
        raise RuntimeError(f"{name}: reference log-probs must be computed by alignlab before the trainer is built")

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        self._signature_columns = [*self._signature_columns, *_EXTRA_COLUMNS, "length"]

    def _gather(self, **values: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-example tensors, each (B,) or (B, k) with the batch's examples along dim 0, from every rank (one
        collective, made by every rank). `gather_for_metrics` drops the examples accelerate repeats to even
        out the last evaluation batch, so they are counted once."""
        return self.accelerator.gather_for_metrics({name: value.detach().float() for name, value in values.items()})

    def _append(self, mode: str, **values: torch.Tensor) -> None:
        for name, value in values.items():
            self._metrics[mode][name].extend(value.reshape(-1).tolist())

    def _record(self, mode: str, **values: torch.Tensor) -> None:
        """Append per-example values from every rank, so that TRL's `log` (a plain mean of what was appended)
        gives per-example means: a held-out accuracy is the share of held-out pairs, not a mean of batch means.
        Two values per example (chosen, rejected) go as one (B, 2) tensor."""
        self._append(mode, **self._gather(**values))

    def _model_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in inputs.items() if k not in (*_EXTRA_COLUMNS, "length")}

    def _count_tokens(self, tokens: int | torch.Tensor, *, trained: bool) -> None:
        """Tokens the model ran in a training step (a shared prompt once), for the utilisation metrics."""
        meter = getattr(self, "_meter", None)
        if meter is not None and self.model.training:
            meter.count(int(tokens), trained=trained)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Training logs also carry achieved FLOP/s and its share of the machine's measured matmul peak."""
        meter = getattr(self, "_meter", None)
        if meter is not None and "loss" in logs:
            from alignlab.metrics.utilisation import training_dtype

            logs.update(meter.report(training_dtype(self.args)))
        super().log(logs, start_time)


class AlignlabDPOTrainer(_AlignlabTrainerMixin, DPOTrainer):
    """DPOTrainer whose loss is `preference_loss` (any registered variant, SimPO, ORPO) with example weights."""

    def __init__(self, *args: Any, objective: PreferenceObjective, **kwargs: Any) -> None:
        self.objective = objective
        self._ref_columns = ("ref_chosen_logps", "ref_rejected_logps") if objective.uses_reference else ()
        self._choice_log = ChoiceLog("DPO forward")
        super().__init__(*args, **kwargs)
        patch_log_prob_head(self.model)
        self._meter = attach_meter(self)

    def _pairs(self, inputs: dict[str, Any]) -> Pairs | None:
        half = inputs["input_ids"].size(0) // 2  # the batch is [chosen..., rejected...]
        return pairs_from_batch(inputs["input_ids"], inputs["attention_mask"], inputs["completion_mask"],
                                slice(0, half), slice(half, None))

    def _reference(self, inputs: dict[str, Any],
                   pairs: Pairs | None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if not self.objective.uses_reference:
            return None, None
        if "ref_chosen_logps" in inputs:
            return inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        if self.ref_model is None:  # a PEFT policy with its adapter disabled: TRL's own path
            return self.compute_ref_log_probs(self.model, self._model_inputs(inputs))
        with torch.no_grad(), self.accelerator.autocast():
            logps, _, _ = paired_logps(self.ref_model, pairs, (inputs["input_ids"], inputs["attention_mask"],
                                                                inputs["completion_mask"]))
        return logps.chunk(2)

    def _compute_loss(self, model, inputs, return_outputs):  # noqa: ANN001 - TRL's signature
        mode = "train" if self.model.training else "eval"
        pairs = self._pairs(inputs)
        logps, lengths, shared = paired_logps(model, pairs, (inputs["input_ids"], inputs["attention_mask"],
                                                             inputs["completion_mask"]), log=self._choice_log)
        self._append(mode, prefix_shared=torch.tensor([float(shared)]))  # rank-local: no collective
        tokens = pairs_tokens(pairs) if shared else int(inputs["attention_mask"].sum())
        self._count_tokens(tokens, trained=True)
        chosen_logps, rejected_logps = logps.chunk(2)  # the batch is [chosen..., rejected...]
        chosen_lengths, rejected_lengths = lengths.chunk(2)
        ref_chosen, ref_rejected = self._reference(inputs, pairs)
        if "ref_chosen_logps" not in inputs and ref_chosen is not None:
            self._count_tokens(tokens, trained=False)  # the reference ran beside the policy
        objective = self.objective
        out = preference_loss(
            chosen_logps, rejected_logps, ref_chosen, ref_rejected, chosen_lengths, rejected_lengths,
            loss_type=objective.loss_type, beta=objective.beta, loss_weights=objective.loss_weights,
            label_smoothing=inputs.get("label_smoothing", objective.label_smoothing),
            simpo_gamma=objective.simpo_gamma, discopop_tau=objective.discopop_tau,
        )
        weight = inputs.get("weight")
        loss = (out.losses * weight).mean() if weight is not None else out.losses.mean()
        values = {
            "rewards/chosen": out.chosen_rewards, "rewards/rejected": out.rejected_rewards,
            "rewards/accuracies": (out.chosen_rewards > out.rejected_rewards).float(),
            "rewards/margins": out.chosen_rewards - out.rejected_rewards,
            "logps/chosen": chosen_logps, "logps/rejected": rejected_logps,
        }
        if ref_chosen is not None:  # (B, 2): both sides of a pair stay with their example
            log_ratio = torch.stack([chosen_logps - ref_chosen, rejected_logps - ref_rejected], dim=1)
            values["offline_log_ratio"] = log_ratio  # the clearer name (see the module docstring)
            values["kl_estimate"] = log_ratio  # the old key, kept so existing dashboards still read it
        if weight is not None:
            values["weight"] = weight
        self._record(mode, **values)  # the same keys on every rank: one collective each step
        return (loss, {}) if return_outputs else loss


class AlignlabKTOTrainer(_AlignlabTrainerMixin, KTOTrainer):
    """KTOTrainer whose loss is `kto_loss` with example weights; reference columns may come from the cache."""

    def __init__(self, *args: Any, objective: KTOObjective, **kwargs: Any) -> None:
        self.objective = objective
        self._ref_columns = ("ref_logps", "ref_KL_logps") if objective.uses_kl else ("ref_logps",)
        self._choice_log = ChoiceLog("KTO forward with its KL term")
        super().__init__(*args, **kwargs)
        patch_log_prob_head(self.model)
        self._meter = attach_meter(self)

    def _policy_kl_logps(self, model: Any, inputs: dict[str, Any]) -> torch.Tensor:
        with torch.no_grad():
            logps, _ = grouped_sequence_logps(model, inputs["KL_input_ids"], inputs["KL_attention_mask"],
                                              inputs["KL_completion_mask"])
        return logps

    def _policy_logps(self, model: Any, inputs: dict[str, Any], mode: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(log-probs of the completions, of the KL completions or None). Each KL completion follows its
        example's own prompt, so both can run as one shared row per example; the KL half is detached. Sharing
        also runs the KL tokens backward, so it is chosen only when the prompt is long enough to pay for that."""
        main = (inputs["input_ids"], inputs["attention_mask"], inputs["completion_mask"])
        if not self.objective.uses_kl:
            self._count_tokens(int(main[1].sum()), trained=True)
            return grouped_sequence_logps(model, *main)[0], None
        kl = (inputs["KL_input_ids"], inputs["KL_attention_mask"], inputs["KL_completion_mask"])
        from alignlab.launch.topology import forwards_are_collective

        # Under ZeRO-3/FSDP every rank must run as many forwards as the others: sharing (one forward instead of
        # two) could differ between ranks, so it is off there.
        pairs = None if forwards_are_collective() else pair_rows(batch_rows(*main), batch_rows(*kl))
        second_cost = 1 / 3 if torch.is_grad_enabled() else 1.0
        share, saving = shared_pays(pairs, second_cost=second_cost) if pairs is not None else (False, 0.0)
        self._choice_log(share, saving)
        self._append(mode, prefix_shared=torch.tensor([float(share)]))  # rank-local: no collective
        if not share:
            self._count_tokens(int(main[1].sum()), trained=True)
            self._count_tokens(int(kl[1].sum()), trained=False)
            return grouped_sequence_logps(model, *main)[0], self._policy_kl_logps(model, inputs)
        self._count_tokens(pairs_tokens(pairs), trained=True)
        logps, kl_logps, _, _ = grouped_shared_logps(model, pairs, main[0].device)
        return logps, kl_logps.detach()

    def _reference(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor | None]:
        if "ref_logps" in inputs:
            return inputs["ref_logps"], inputs.get("ref_KL_logps")
        return self.compute_ref_log_probs(self.ref_model or self.model, self._model_inputs(inputs))

    def _compute_loss(self, model, inputs, return_outputs):  # noqa: ANN001 - TRL's signature
        mode = "train" if self.model.training else "eval"
        objective = self.objective
        labels = inputs["label"].bool()
        logps, kl_logps = self._policy_logps(model, inputs, mode)
        ref_logps, ref_kl_logps = self._reference(inputs)
        kl = torch.zeros((), device=logps.device)
        if objective.uses_kl:
            kl = self._global_kl(kl_logps - ref_kl_logps)
        out = kto_loss(logps, ref_logps, labels, kl=kl, beta=objective.beta, loss_type=objective.loss_type,
                       desirable_weight=objective.desirable_weight, undesirable_weight=objective.undesirable_weight)
        weight = inputs.get("weight")
        loss = (out.losses * weight).mean() if weight is not None else out.losses.mean()
        self._record_kto(mode, out.rewards, logps, ref_logps, labels, kl, weight)
        return (loss, {}) if return_outputs else loss

    def _global_kl(self, differences: torch.Tensor) -> torch.Tensor:
        """z0 = max(0, mean of log pi - log pi_ref over the mismatched pairs of every rank's batch), detached (the
        paper's estimate, `alignlab.losses.kto.kto_kl_estimate`, over the global batch: clamped after the mean,
        so it does not depend on how the batch is split between processes)."""
        differences = differences.detach().float()
        stats = torch.stack([differences.sum(), torch.tensor(float(differences.numel()), device=differences.device)])
        total, count = self.accelerator.gather(stats.unsqueeze(0)).sum(0)
        return (total / count.clamp(min=1)).clamp(min=0)

    def _record_kto(self, mode: str, rewards: torch.Tensor, logps: torch.Tensor, ref_logps: torch.Tensor,
                    labels: torch.Tensor, kl: torch.Tensor, weight: torch.Tensor | None) -> None:
        """KTO metrics over the global batch. Every rank gathers the same per-example tensors whatever labels
        its own batch holds (one collective), then splits them by label locally."""
        values = {"rewards": rewards, "logps": logps, "kl_estimate": logps - ref_logps, "labels": labels}
        if weight is not None:
            values["weight"] = weight
        gathered = self._gather(**values)
        rewards, logps, labels = gathered["rewards"], gathered["logps"], gathered["labels"].bool()
        self._append(mode, kl=kl.detach().float().reshape(1), kl_estimate=gathered["kl_estimate"])
        for side, mask in (("chosen", labels), ("rejected", ~labels)):
            if mask.any():
                self._append(mode, **{f"rewards/{side}": rewards[mask], f"logps/{side}": logps[mask]})
        if labels.any() and (~labels).any():
            # Reward accuracy without pairs: the share of (desirable, undesirable) pairs within the batch whose
            # implicit rewards are in the right order (a ranking AUC), robust to the policy's overall drift.
            ordered = rewards[labels].unsqueeze(1) > rewards[~labels].unsqueeze(0)
            self._append(mode, **{"rewards/accuracies": ordered.float(),
                                  "rewards/margins": rewards[labels].mean() - rewards[~labels].mean()})
        if weight is not None:
            self._append(mode, weight=gathered["weight"])
