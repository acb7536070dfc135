"""Instruction / chat data for SFT: rows to conversations, a stable held-out split, TRL's dataset shape.

    items = read_conversations("data/lifecycle/instructions/train.jsonl")   # [(where, messages)]
    train, held_out = split_items(items, test_size=0.1)
    rows, mode = trl_rows(train, tokenizer, loss_on="assistant")           # mode: "assistant" | "completion" | "all"

A row is `{"messages": [{"role", "content"}, ...]}` or `{"prompt": ..., "completion": ...}` where each side is a
string (a user turn / an assistant turn) or a list of messages. Every row becomes one conversation with at least
one non-empty assistant turn; a row that is not is a one-line error naming its file and line.

`synthetic:<rule>?n=..&seed=..&side=both|chosen|rejected` builds rows from alignlab.data.synthetic's pairs (default
`side=both`: both responses of every pair, so a model learns the format and no preference);
`synthetic:unpaired-<rule>` and `synthetic:ratings` give one row per completion / response.

Loss on assistant tokens (`trl_rows`): when the chat template marks assistant turns with `{% generation %}`
(alignlab's tiny tokenizers do), rows stay conversations and TRL's `assistant_only_loss` trains on every
assistant turn; other templates (most hub models') get the conversation split at its last assistant turn into
prompt and completion, and TRL's `completion_only_loss` trains on that turn.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from alignlab.errors import ConfigError, DataError

Messages = list[dict[str, str]]
Item = tuple[str, Messages]  # (where the row came from, e.g. "sft.jsonl:12", its conversation)
ROLES = ("system", "user", "assistant", "tool")
_GENERATION_MARK = re.compile(r"{%-?\s*generation\s*-?%}")


def read_conversations(path: str) -> list[Item]:
    """Every row of `path` (a JSONL/CSV/Parquet file, datasets folder, or synthetic: spec) as a conversation."""
    from alignlab.data.synthetic import is_synthetic

    if is_synthetic(path):
        return _synthetic(path)
    from alignlab.data.io import RowError, iter_rows

    items: list[Item] = []
    for line, row in iter_rows(path):
        where = f"{path}:{line}"
        if isinstance(row, RowError):
            raise DataError(f"{where}: {row.field}: {row.reason}")
        items.append((where, to_messages(row, where)))
    if not items:
        raise DataError(f"{path}: no rows; an SFT file holds one JSON object per line with messages, or prompt "
                        "and completion")
    return items


def to_messages(row: Any, where: str) -> Messages:
    """One row as a checked conversation (see the module docstring for the accepted shapes)."""
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object with messages, or prompt and completion")
    if "messages" in row:
        messages = _checked(row["messages"], where, "messages")
    elif "prompt" in row and "completion" in row:
        prompt = _side(row["prompt"], "user", where, "prompt")
        messages = prompt + _side(row["completion"], "assistant", where, "completion")
    else:
        keys = ", ".join(sorted(row)) or "none"
        raise DataError(f"{where}: needs messages, or prompt and completion (found keys: {keys})")
    if not any(m["role"] == "assistant" and m["content"].strip() for m in messages):
        raise DataError(f"{where}: no assistant turn with text; SFT trains on assistant turns")
    return messages


def _side(value: Any, role: str, where: str, field: str) -> Messages:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return _checked(value, where, field)


def _checked(messages: Any, where: str, field: str) -> Messages:
    if not isinstance(messages, list) or not messages:
        raise DataError(f"{where}: {field} must be a non-empty list of {{role, content}} messages")
    out = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not {"role", "content"} <= message.keys():
            raise DataError(f"{where}: {field}[{index}] must be an object with role and content")
        role, content = message["role"], message["content"]
        if role not in ROLES:
            raise DataError(f"{where}: {field}[{index}].role {role!r} is not one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise DataError(f"{where}: {field}[{index}].content must be a string, got {type(content).__name__}")
        out.append({"role": role, "content": content})
    return out


def _synthetic(spec: str) -> list[Item]:
    from alignlab.data.synthetic import load_synthetic

    name, _, query = spec.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    side = options.pop("side", "both")
    if side not in ("both", "chosen", "rejected"):
        raise DataError(f"{spec}: side={side!r}; choose both, chosen or rejected")
    options.setdefault("chat", "1")
    fmt, records = load_synthetic(f"{name}?{urlencode(options)}")
    keys = {"pairwise": ("chosen", "rejected") if side == "both" else (side,), "unpaired": ("completion",),
            "ratings": ("response",)}[fmt]
    items = []
    for index, record in enumerate(records):
        for key in keys:
            row = {"prompt": record["prompt"], "completion": record[key]}
            items.append((f"{spec} #{index + 1}", to_messages(row, f"{spec} #{index + 1}")))
    return items


def split_items(items: list[Item], test_size: float) -> tuple[list[Item], list[Item]]:
    """(train, held out): a conversation is held out by a hash of its content, the same in every run."""
    train, held_out = [], []
    for item in items:
        text = json.dumps(item[1], sort_keys=True, ensure_ascii=False)
        digest = hashlib.blake2b(f"alignlab-sft-split:{text}".encode(), digest_size=8).digest()
        (held_out if int.from_bytes(digest, "big") / 2**64 < test_size else train).append(item)
    return train, held_out


def marks_assistant_turns(tokenizer: Any) -> bool:
    """Whether the chat template wraps assistant content in {% generation %} (TRL's assistant_only_loss)."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default")
    return bool(template) and bool(_GENERATION_MARK.search(template))


def check_chat_template(tokenizer: Any, model_name: str) -> None:
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(f"{model_name}: the tokenizer has no chat template, which SFT formats conversations "
                          "with; use a chat/instruct model or a tokenizer that has one (alignlab's tiny models do)")


def trl_rows(items: list[Item], tokenizer: Any, loss_on: str) -> tuple[list[dict], str]:
    """TRL SFT rows and the loss mode: `assistant` (every assistant turn, via {% generation %} marks),
    `completion` (the last assistant turn, as prompt/completion) or `all` (every token)."""
    if loss_on == "all":
        return [{"messages": messages} for _where, messages in items], "all"
    if marks_assistant_turns(tokenizer):
        return [{"messages": messages} for _where, messages in items], "assistant"
    rows = []
    for _where, messages in items:
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        if last == 0:
            raise DataError(f"{_where}: the conversation starts with its only assistant turn, so there is no "
                            "prompt; add a user turn before it")
        rows.append({"prompt": messages[:last], "completion": [messages[last]]})
    return rows, "completion"
