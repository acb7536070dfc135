"""Preference data for DPO and KTO: records in, token ids out, with a stable held-out split and stated truncation.

    from alignlab.algorithms.preference_data import Encoder, as_pairs, encode_pairs, read_split
    split = read_split(config.data, as_pairs)                 # Split(fmt, train=[(where, record)], eval=[...])
    encoder = Encoder.for_data(tokenizer, config.data)        # chat template or plain text; truncation policy
    columns = encode_pairs(split.train, encoder, config.data.weighting)

- `read_records` reads a file (JSONL, CSV, Parquet, a datasets folder), a hub dataset or a `synthetic:` spec
  (`alignlab.data.synthetic`), validating every row; each record keeps where it came from (`file:line`) so that
  an error about it can say so. Unpaired rows where pairs are expected (or the reverse) are named as such.
- `read_split` holds out `test_size` of the records by a hash of their content id: the same record is held
  out in every run, round and machine, whatever else the file holds (or takes `data.eval_path`).
- `Encoder` tokenizes as TRL does (the chat template with the generation prompt for the prompt; the prompt
  and a response together for the response, split where the two token lists diverge; plain text gets eos) and
  applies `data.truncation`; `example_trust` turns agreement, margin or weight fields into per-example trust.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from alignlab.config.dpo import PreferenceDataSection, WeightingSection
from alignlab.errors import DataError

Item = tuple[str, dict]  # (where the record came from, e.g. "prefs.jsonl:12", the record)


@dataclass
class Split:
    fmt: str
    train: list[Item]
    eval: list[Item]


def read_records(path: str, fmt: str) -> tuple[str, list[Item]]:
    """(format, items) from a file, a datasets folder or hub name, or a `synthetic:` spec."""
    from alignlab.data.synthetic import is_synthetic, load_synthetic

    if is_synthetic(path):
        found, records = load_synthetic(path)
        return found, [(f"{path} #{index + 1}", record) for index, record in enumerate(records)]
    _check_shape(path, fmt)
    from alignlab.data import iter_records

    return fmt, [(f"{path}:{line}", record) for line, record in iter_records(path, fmt)]


def _check_shape(path: str, fmt: str) -> None:
    """Name the real problem when a file holds unpaired rows where pairs are expected, or the reverse."""
    from alignlab.data import iter_rows

    first = next((row for _line, row in iter_rows(path)), None)
    if not isinstance(first, dict):
        return
    if fmt == "pairwise" and {"completion", "label"} <= first.keys() and "chosen" not in first:
        raise DataError(f"{path}: holds unpaired rows (prompt, completion, label) but this run needs pairs "
                        "(prompt, chosen, rejected); train them with `alignlab train kto`")
    if fmt == "unpaired" and {"chosen", "rejected"} <= first.keys():
        raise DataError(f"{path}: holds pairs (prompt, chosen, rejected) but data.format is unpaired; set "
                        "data.format: pairwise and data.unpair: true to train KTO on both sides of each pair")


def as_pairs(fmt: str, items: list[Item]) -> list[Item]:
    """Pairwise items from pairwise, ranking or ratings items; unpaired data is an error."""
    from alignlab.data import expand_ranking_to_pairs, ratings_to_pairs

    if fmt == "pairwise":
        return items
    if fmt == "ranking":
        return [(where, pair) for where, record in items for pair in expand_ranking_to_pairs(record)]
    if fmt == "ratings":
        source = items[0][0].rsplit(":", 1)[0] if items else "data"
        return [(f"{source} pair {pair['id']}", pair) for pair in ratings_to_pairs(r for _w, r in items)]
    raise DataError(f"{items[0][0] if items else 'data'}: unpaired examples (prompt, completion, label) given to "
                    "DPO, which trains on pairs; use `alignlab train kto`")


def read_split(data: PreferenceDataSection, convert: Callable[[str, list[Item]], list[Item]]) -> Split:
    """Train and held-out items: `data.eval_path`, else a stable `test_size` share of `data.path`. The split
    is made on the records as read, then `convert` turns each side into what the method trains on (so both
    halves of a pair, or all pairs of a ranking, stay on one side)."""
    fmt, items = read_records(data.path, data.format)
    if data.eval_path:
        eval_fmt, eval_items = read_records(data.eval_path, data.format)
        train, held_out = convert(fmt, items), convert(eval_fmt, eval_items)
    else:
        train = convert(fmt, [item for item in items if not _held_out(item[1], fmt, data.test_size)])
        held_out = convert(fmt, [item for item in items if _held_out(item[1], fmt, data.test_size)])
    if data.max_examples is not None:
        train = train[:data.max_examples]
    if not train:
        raise DataError(f"{data.path}: no training examples (after the held-out split of test_size "
                        f"{data.test_size}); add data or lower data.test_size")
    return Split(fmt, train, held_out)


def _held_out(record: dict, fmt: str, test_size: float) -> bool:
    """Deterministic split by content id: a record is held out in every run, round and machine alike."""
    from alignlab.data import record_id

    digest = hashlib.blake2b(f"alignlab-split:{record_id(record, fmt)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < test_size


@dataclass
class Encoder:
    """Prompt + responses to token ids, the way TRL tokenizes them, with a stated truncation policy."""

    tokenizer: Any
    chat: bool
    max_length: int
    truncation: str
    counts: dict[str, int] = field(default_factory=lambda: {"truncated": 0, "dropped": 0})

    @classmethod
    def for_data(cls, tokenizer: Any, data: PreferenceDataSection) -> Encoder:
        from alignlab.data.prompts import use_chat_template

        chat = use_chat_template(tokenizer, data.chat_template, key="data.chat_template")
        return cls(tokenizer, chat, data.max_length, data.truncation)

    @property
    def style(self) -> str:
        return "conversational" if self.chat else "standard"

    @property
    def description(self) -> str:
        return f"{'chat' if self.chat else 'plain'}/{self.truncation}"

    def _ids(self, prompt: Any, response: Any | None) -> list[int]:
        tok = self.tokenizer
        if self.chat:
            messages = prompt + (response or [])
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=response is None)
            return tok(text, add_special_tokens=False)["input_ids"]
        if response is not None and not response.endswith(tok.eos_token):
            response = response + tok.eos_token
        return tok(prompt + (response or ""))["input_ids"]

    def encode(self, prompt: Any, responses: Sequence[Any], where: str) -> tuple[list[int], list[list[int]]] | None:
        """(prompt ids, response ids...) within max_length, or None when the policy drops the example."""
        prompt_ids = self._ids(prompt, None)
        fulls = [self._ids(prompt, response) for response in responses]
        start = min(_common_prefix(prompt_ids, full) for full in fulls)
        prompt_ids = prompt_ids[:start]
        answers = [full[start:] for full in fulls]
        return self._fit(prompt_ids, answers, where)

    def _fit(self, prompt: list[int], answers: list[list[int]], where: str) -> tuple | None:
        limit, longest = self.max_length, max(len(a) for a in answers)
        if len(prompt) + longest <= limit:
            return prompt, answers
        too_long = f"{where}: prompt {len(prompt)} + response {longest} tokens exceed data.max_length {limit}"
        if self.truncation == "error":
            raise DataError(f"{too_long}; raise data.max_length or set data.truncation (truncate_response, "
                            "truncate_prompt or drop)")
        if self.truncation == "drop":
            self.counts["dropped"] += 1
            return None
        self.counts["truncated"] += 1
        if self.truncation == "truncate_prompt":
            keep = max(limit - longest, min(len(prompt), limit // 2))
            prompt = prompt[len(prompt) - keep:]
        elif len(prompt) >= limit:
            raise DataError(f"{where}: the prompt alone has {len(prompt)} tokens, data.max_length is {limit}; raise "
                            "data.max_length, or set data.truncation to truncate_prompt or drop")
        return prompt, [answer[:limit - len(prompt)] for answer in answers]


def _common_prefix(ids: list[int], other: list[int]) -> int:
    n = 0
    for a, b in zip(ids, other, strict=False):
        if a != b:
            break
        n += 1
    return n


def example_trust(records: Sequence[dict], weighting: WeightingSection, where: str) -> list[float] | None:
    """w_i in [0, 1] (or the record's own weight) per `WeightingSection`; None when weighting is off."""
    source = weighting.source
    if source == "none":
        return None
    values = [record.get(source) for record in records]
    singles = source == "agreement" and any(len(record.get("annotators") or ()) == 1 for record in records)
    if all(value is None for value in values) and not singles:
        raise DataError(f"{where}: data.weighting.source is {source} but no training record has a {source!r} "
                        "field; set data.weighting.source: none or add the field (alignlab data audit shows it)")
    if source == "agreement":
        single = weighting.single_annotator_weight  # agreement null: one annotator, nothing to agree with
        return [(single if len(record.get("annotators") or ()) == 1 else 1.0) if a is None
                else min(1.0, max(0.0, 2.0 * a - 1.0)) for a, record in zip(values, records, strict=True)]
    if source == "margin":
        top = max((m for m in values if m is not None), default=0.0)
        if top <= 0:
            raise DataError(f"{where}: every margin is 0 or less; margins must be positive to weight by them")
        return [1.0 if m is None else max(0.0, m) / top for m in values]
    return [1.0 if w is None else float(w) for w in values]


def trust_columns(trust: list[float] | None, weighting: WeightingSection) -> dict[str, list[float]]:
    """{"weight": w} or {"label_smoothing": e = min((1 - w) / 2, cap)}, or nothing."""
    if trust is None:
        return {}
    if weighting.mode == "loss_weight":
        return {"weight": trust}
    cap = weighting.max_label_smoothing
    return {"label_smoothing": [min((1.0 - min(1.0, w)) / 2.0, cap) for w in trust]}


def encode_pairs(items: list[Item], encoder: Encoder, weighting: WeightingSection | None) -> dict[str, list]:
    """DPO columns: prompt_ids, chosen_ids, rejected_ids, length, and weight or label_smoothing."""
    from alignlab.data import to_trl

    columns: dict[str, list] = {"prompt_ids": [], "chosen_ids": [], "rejected_ids": [], "length": []}
    kept: list[dict] = []
    for where, record in items:
        row = to_trl(record, "pairwise", encoder.style)
        encoded = encoder.encode(row["prompt"], [row["chosen"], row["rejected"]], where)
        if encoded is None:
            continue
        prompt, (chosen, rejected) = encoded
        columns["prompt_ids"].append(prompt)
        columns["chosen_ids"].append(chosen)
        columns["rejected_ids"].append(rejected)
        columns["length"].append(len(prompt) + max(len(chosen), len(rejected)))
        kept.append(record)
    if weighting is not None:
        columns.update(trust_columns(example_trust(kept, weighting, items[0][0] if items else "data"), weighting))
    return columns


# -- unpaired data (KTO) -------------------------------------------------------------------------------

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
