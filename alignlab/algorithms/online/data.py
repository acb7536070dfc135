"""Prompts for online RL: read, split into train and held-out, rendered for the policy, checked for length.

A prompt row is any row with a `prompt` (a string, or a list of messages); every other column (e.g. `answer`)
travels with it to the rewards. A `synthetic:` spec gives the prompts of that generated set (its responses
are used only to build a tiny starting policy). The held-out split is the same deterministic content-hash
split DPO uses, so a prompt is held out in every run.

Prompts are rendered with the policy's chat template (`add_generation_prompt`) when it has one and
`chat_template` is auto/always, else used as plain text. A prompt longer than `max_prompt_length` tokens, or
one leaving no room for `max_new_tokens` inside the model's context, is an error naming its row (or dropped,
with `long_prompts: drop`): an engine would otherwise cut it silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from alignlab.config.online import PromptDataSection
from alignlab.errors import DataError


@dataclass
class Prompt:
    where: str  # "prompts.jsonl:12" or "synthetic:... #3"
    prompt: Any  # as the data gave it: the rewards see this
    text: str = ""  # rendered for the policy
    columns: dict[str, Any] = field(default_factory=dict)


@dataclass
class PromptSplit:
    train: list[Prompt]
    eval: list[Prompt]
    records: list[dict]  # the raw training records (a tiny starting policy is SFT'd on them)
    dropped: int = 0


def _rows(path: str) -> list[tuple[str, dict]]:
    from alignlab.data.synthetic import is_synthetic, load_synthetic

    if is_synthetic(path):
        _fmt, records = load_synthetic(path)
        return [(f"{path} #{index + 1}", record) for index, record in enumerate(records)]
    from alignlab.data.io import RowError, iter_rows

    rows = []
    for line, row in iter_rows(path):
        where = f"{path}:{line}"
        if isinstance(row, RowError):
            raise DataError(f"{where}: {row.field}: {row.reason}")
        if not isinstance(row, dict) or "prompt" not in row:
            raise DataError(f"{where}: prompt: missing required field (each row needs a `prompt`: text or a list "
                            "of messages)")
        if not row["prompt"]:
            raise DataError(f"{where}: prompt: empty")
        rows.append((where, row))
    if not rows:
        raise DataError(f"{path}: no prompts")
    return rows


_SKIP = {"prompt", "chosen", "rejected", "completion", "response", "responses", "id", "source", "label"}


def _as_prompt(where: str, row: dict) -> Prompt:
    return Prompt(where, row["prompt"], columns={k: v for k, v in row.items() if k not in _SKIP})


def _held_out(where: str, row: dict, test_size: float) -> bool:
    import json

    key = row.get("id") or json.dumps(row["prompt"], sort_keys=True)
    digest = hashlib.blake2b(f"alignlab-split:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < test_size


def read_prompts(data: PromptDataSection) -> PromptSplit:
    rows = _rows(data.path)
    if data.eval_path:
        train_rows, eval_rows = rows, _rows(data.eval_path)
    else:
        train_rows = [item for item in rows if not _held_out(*item, data.test_size)]
        eval_rows = [item for item in rows if _held_out(*item, data.test_size)]
    if data.max_prompts is not None:
        train_rows = train_rows[:data.max_prompts]
    if not train_rows:
        raise DataError(f"{data.path}: no training prompts after the held-out split (test_size {data.test_size})")
    return PromptSplit([_as_prompt(*item) for item in train_rows], [_as_prompt(*item) for item in eval_rows],
                       [row for _where, row in train_rows])


def render(tokenizer: Any, prompt: Any, chat_template: str) -> str:
    from alignlab.data.prompts import format_prompt

    return format_prompt(tokenizer, prompt, chat_template, key="data.chat_template")


def prepare(split: PromptSplit, tokenizer: Any, data: PromptDataSection, *, max_new_tokens: int,
            context: int | None) -> PromptSplit:
    """Render every prompt and enforce the length limits (error or drop, as `data.long_prompts` says)."""
    limit = data.max_prompt_length
    if context is not None:
        limit = min(limit, context - max_new_tokens)
        if limit < 1:
            raise DataError(f"rollout.max_new_tokens {max_new_tokens} fills the model's whole context ({context} "
                            "tokens); lower it")
    kept: dict[str, list[Prompt]] = {"train": [], "eval": []}
    dropped = 0
    for name in ("train", "eval"):
        for prompt in getattr(split, name):
            prompt.text = render(tokenizer, prompt.prompt, data.chat_template)
            length = len(tokenizer(prompt.text, add_special_tokens=False)["input_ids"])
            if length > limit:
                if data.long_prompts == "drop":
                    dropped += 1
                    continue
                why = (f"data.max_prompt_length {data.max_prompt_length}" if limit == data.max_prompt_length else
                       f"the model's context {context} minus rollout.max_new_tokens {max_new_tokens}")
                raise DataError(f"{prompt.where}: prompt is {length} tokens, longer than {why}; shorten it, raise "
                                "the limit, or set data.long_prompts: drop")
            kept[name].append(prompt)
    if not kept["train"]:
        raise DataError(f"{data.path}: every training prompt is longer than {limit} tokens")
    return PromptSplit(kept["train"], kept["eval"], split.records, dropped)
