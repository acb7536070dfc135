"""Prefix-shared forwards: a prompt computed once for the two continuations that follow it.

DPO scores a chosen and a rejected response after the same prompt; KTO scores a completion and its mismatched
KL completion after the same prompt; the reference pass does both. Run separately, the prompt is computed twice.
Here each pair becomes one row (Wang et al. 2024, "Accelerating Direct Preference Optimization with Prefix
Sharing"):

    tokens     p0 p1 .. p(P-1) | a0 a1 .. a(A-1) | p(P-1)' b0 b1 .. b(B-1)
    positions  0  1  .. P-1    | P  P+1 .. P+A-1 | P-1     P  P+1 .. P+B-1
    labels     -  -  ..  -     | a0 a1  .. a(A-1)| -       b0 b1  .. b(B-1)

with a 4-D boolean attention mask (N, 1, T, T): causal, except that the second segment never sees the first one
nor the original last prompt token. The second segment restarts with a copy of the last prompt token at its
position: a token's hidden state depends only on the keys it sees, so the copy's hidden state equals the
original's, and it predicts b0 exactly as the last prompt token does in a separate forward (a position can
carry one label only, and the last prompt token must predict both a0 and b0). Position ids restart after the
prompt, so b sees exactly what it would see alone: summed log-probs equal separate forwards to float rounding.

The forward goes through the model's own `forward` (TRL's fused log-prob head, PEFT and DDP wrappers stay in
the path). `shared_pays` decides per batch whether sharing saves enough padded tokens to be worth a custom mask
(the reward model's `shared_prompt` batching is the same idea, chosen in its config).

    rows = pack_shared(prompts, firsts, seconds, pad_id)      # SharedRows, (N, T) tensors + (N, 1, T, T) mask
    first, second, first_n, second_n = shared_logps(model, rows)
    split = pairs_from_batch(input_ids, attention_mask, completion_mask)  # TRL's [chosen; rejected] batch
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from alignlab.models.packing import Unit, pack_units

logger = logging.getLogger(__name__)

# Sharing runs an arbitrary (not causal) attention mask over rows up to twice as long (attention grows with the
# square of the row) and one extra token per row: it must save at least this share of the padded tokens that
# separate (length-grouped) forwards would run. Measured (benchmarks/prefix_sharing.py, 15M Llama, CPU): 32%
# fewer tokens gave a 1.12x faster DPO step, 4.5% fewer a 0.85x one; break-even lies near 20%.
MIN_SAVING = 0.20


@dataclass
class SharedRows:
    """Rows of (prompt, first, second) units: input_ids, position_ids, labels (R, T); attention_mask
    (R, 1, T, T); first_owner / second_owner (R, T): the unit whose first / second continuation a label position
    belongs to (-1: none). One unit per row unless packed (`pack_shared(..., capacity=)`)."""

    input_ids: torch.Tensor
    position_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor
    first_owner: torch.Tensor
    second_owner: torch.Tensor
    units: int

    def to(self, device: torch.device | str) -> SharedRows:
        return SharedRows(*(getattr(self, name).to(device) for name in self.__dataclass_fields__
                            if name != "units"), self.units)


def shared_length(prompt: int, first: int, second: int) -> int:
    """Tokens of one shared row (the copy of the last prompt token only when there is a second segment)."""
    return prompt + first + (second + 1 if second else 0)


def pairs_tokens(pairs: Pairs) -> int:
    """Tokens the shared rows of `pairs` hold (padding excluded)."""
    return sum(shared_length(len(p), len(a), len(b)) for p, a, b in zip(*_fields(pairs), strict=True))


def shared_unit(prompt: Sequence[int], first: Sequence[int], second: Sequence[int]) -> Unit:
    """`[prompt | first | last prompt token, second]` as a packing unit (see the module docstring)."""
    p, a, b = len(prompt), len(first), len(second)
    ids = [*prompt, *first] + ([prompt[-1], *second] if b else [])
    positions = list(range(p + a)) + (list(range(p - 1, p + b)) if b else [])
    hidden = ((p + a, p + a + b + 1, p - 1, p + a),) if b else ()  # never the original last prompt token nor first
    return Unit(ids, positions, hidden)


def pack_shared(prompts: Sequence[Sequence[int]], firsts: Sequence[Sequence[int]],
                seconds: Sequence[Sequence[int]], pad_id: int, capacity: int | None = None) -> SharedRows:
    """Rows `[prompt | first | last prompt token, second]`, right-padded, one per pair, or packed several to a
    row of at most `capacity` tokens. A prompt may be empty only when there is no second continuation (a plain
    sequence); a unit's first token is never scored (nothing before it predicts it, as in a separate forward)."""
    units = []
    for row, (prompt, first, second) in enumerate(zip(prompts, firsts, seconds, strict=True)):
        if not prompt and second:
            raise ValueError(f"row {row}: prefix sharing needs a non-empty prompt")
        units.append(shared_unit(prompt, first, second))
    packed = pack_units(units, pad_id, capacity)
    labels = torch.full(packed.input_ids.shape, -100, dtype=torch.long)
    first_owner = torch.full(packed.input_ids.shape, -1, dtype=torch.long)
    second_owner = torch.full(packed.input_ids.shape, -1, dtype=torch.long)
    for index, ((row, offset), prompt, first, second) in enumerate(zip(packed.places, prompts, firsts, seconds,
                                                                       strict=True)):
        p, a, b = len(prompt), len(first), len(second)
        start = offset + max(p, 1)  # an empty prompt: the first token has nothing before it to predict it
        if offset + p + a > start:
            labels[row, start:offset + p + a] = torch.as_tensor(list(first)[max(p, 1) - p:], dtype=torch.long)
            first_owner[row, start:offset + p + a] = index
        if b:
            start = offset + p + a + 1  # after the copy of the last prompt token
            labels[row, start:start + b] = torch.as_tensor(list(second), dtype=torch.long)
            second_owner[row, start:start + b] = index
    return SharedRows(packed.input_ids, packed.position_ids, packed.attention_mask, labels, first_owner,
                      second_owner, len(units))


def shared_logps(model: torch.nn.Module, rows: SharedRows) -> tuple[torch.Tensor, ...]:
    """(first logps, second logps, first counts, second counts), each (units,), from one forward of a model
    patched with the fused log-prob head (`alignlab.backends.train.preference.patch_log_prob_head`)."""
    out = model(input_ids=rows.input_ids, attention_mask=rows.attention_mask, position_ids=rows.position_ids,
                labels=rows.labels, fused_lm_head=True, use_cache=False)
    width = rows.input_ids.size(1)
    per_token = out.log_probs[:, -(width - 1):].reshape(-1)  # index j of a row scores the label at j + 1
    return (*(_per_unit(per_token, owner, rows.units) for owner in (rows.first_owner, rows.second_owner)),
            *(_per_unit(torch.ones_like(per_token, dtype=torch.long), owner, rows.units)
              for owner in (rows.first_owner, rows.second_owner)))


def _per_unit(values: torch.Tensor, owner: torch.Tensor, units: int) -> torch.Tensor:
    """Sums of `values` (flat, one per label position after the first column) grouped by owning unit."""
    owner = owner[:, 1:].reshape(-1)
    keep = owner >= 0
    return values.new_zeros(units).index_add(0, owner[keep], values[keep])


@dataclass(frozen=True)
class Pairs:
    """A paired batch as token lists: prompts, firsts, seconds (each N lists)."""

    prompts: list[list[int]]
    firsts: list[list[int]]
    seconds: list[list[int]]


def pairs_from_batch(input_ids: torch.Tensor, attention_mask: torch.Tensor, completion_mask: torch.Tensor,
                     first: slice, second: slice) -> Pairs | None:
    """Rows `first` and `second` of a right-padded (M, T) batch as (prompt, first, second) pairs, when each
    pair's two rows start with the same non-empty prompt (the tokens before the completion); else None."""
    rows = batch_rows(input_ids, attention_mask, completion_mask)
    return pair_rows(rows[first], rows[second])


def pair_rows(firsts: Sequence[tuple[list[int], list[int]]],
              seconds: Sequence[tuple[list[int], list[int]]]) -> Pairs | None:
    """(prompt, completion) rows paired up, when each pair shares the same non-empty prompt; else None."""
    if any(not p or p != q for (p, _), (q, _) in zip(firsts, seconds, strict=True)):
        return None
    return Pairs([p for p, _ in firsts], [a for _, a in firsts], [b for _, b in seconds])


def batch_rows(input_ids: torch.Tensor, attention_mask: torch.Tensor,
               completion_mask: torch.Tensor) -> list[tuple[list[int], list[int]]]:
    """(prompt, completion) token lists of each right-padded row; the prompt ends where the completion starts."""
    ids, lengths = input_ids.tolist(), attention_mask.sum(-1).tolist()
    starts = torch.where(completion_mask.any(-1), completion_mask.int().argmax(-1), attention_mask.sum(-1)).tolist()
    return [(row[:start], row[start:length]) for row, start, length in zip(ids, starts, lengths, strict=True)]


def padded_tokens(lengths: Sequence[int], grouped: bool) -> int:
    """Token positions the forwards run for rows of these lengths: one padded batch, or length groups."""
    from alignlab.backends.train.grouping import length_groups

    if not lengths:
        return 0
    groups = length_groups(lengths) if grouped else [list(range(len(lengths)))]
    return sum(len(g) * max(lengths[i] for i in g) for g in groups)


def shared_pays(pairs: Pairs, *, grouped: bool = True, min_saving: float = MIN_SAVING,
                second_cost: float = 1.0) -> tuple[bool, float]:
    """(share?, saving): whether one shared row per pair runs at least `min_saving` fewer padded token positions
    than the two separate rows (each way length-grouped when `grouped`), and the saving (share of positions).

    `second_cost` weighs the separate second rows against the shared rows' tokens: 1/3 when the second rows
    would run forward-only (KTO's KL term, no gradient) while the shared rows also run backward (about 2x)."""
    first = [len(p) + len(a) for p, a in zip(pairs.prompts, pairs.firsts, strict=True)]
    second = [len(p) + len(b) for p, b in zip(pairs.prompts, pairs.seconds, strict=True)]
    shared = [shared_length(len(p), len(a), len(b)) for p, a, b in zip(*_fields(pairs), strict=True)]
    if second_cost == 1.0:
        cost_separate = padded_tokens(first + second, grouped)
    else:
        cost_separate = padded_tokens(first, grouped) + second_cost * padded_tokens(second, grouped)
    cost_shared = padded_tokens(shared, grouped)  # shared rows are length-grouped the same way
    saving = 1.0 - cost_shared / max(cost_separate, 1)
    return saving >= min_saving, saving


def _fields(pairs: Pairs) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    return pairs.prompts, pairs.firsts, pairs.seconds


class ChoiceLog:
    """Logs the forward chosen (shared or separate) when it changes, with the saving that decided it."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.last: bool | None = None

    def __call__(self, shared: bool, saving: float) -> None:
        if shared != self.last:
            how = "prompt computed once per pair" if shared else "separate forwards"
            logger.info("%s: %s (sharing saves %.0f%% of token positions)", self.what, how, 100 * saving)
            self.last = shared
