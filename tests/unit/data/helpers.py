"""Hand-made preference rows for the data-layer tests (unit and CLI integration)."""

from __future__ import annotations

import json
from pathlib import Path

CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi, can you help me?"},
    {"role": "assistant", "content": "Of course."},
    {"role": "user", "content": "How do I boil an egg?"},
]


def pair(prompt="What is 2+2?", chosen="4", rejected="5", **extra) -> dict:
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected, **extra}


def write_lines(path: Path, lines: list) -> Path:
    """Write a JSONL file: dicts are JSON-encoded, str lines written as they are, bytes raw."""
    data = b""
    for line in lines:
        if isinstance(line, dict):
            line = json.dumps(line, ensure_ascii=False)
        data += (line if isinstance(line, bytes) else line.encode("utf-8")) + b"\n"
    path.write_bytes(data)
    return path


# One valid row, then one row per kind of problem; BROKEN_EXPECTED names each (line, field, words in reason).
BROKEN_LINES = [
    pair(id="ok-1"),                                                            # 1 valid
    '{"prompt": "cut", "chosen": "a"',                                          # 2 invalid JSON
    b'{"prompt": "bad \xff byte", "chosen": "a", "rejected": "b"}',              # 3 invalid UTF-8
    "[1, 2, 3]",                                                                # 4 not an object
    {"prompt": "x", "rejected": "b"},                                           # 5 missing field
    pair(prompt=42),                                                            # 6 wrong type
    pair(chosen="   "),                                                         # 7 empty text
    pair(chosen="same", rejected="same"),                                       # 8 chosen == rejected
    pair(id="ok-1", chosen="other"),                                            # 9 duplicate id
    pair(rejected="x" * 500),                                                   # 10 over-long (max_chars=100)
    pair(prompt=[{"role": "robot", "content": "hi"}]),                          # 11 bad message role
    pair(margin="big"),                                                         # 12 wrong-typed optional
    "",                                                                         # 13 blank: skipped
    '{"prompt": "lone \\ud800 surrogate", "chosen": "4", "rejected": "5"}',    # 14 lone surrogate escape
]
BROKEN_MAX_CHARS = 100
BROKEN_EXPECTED = [
    (2, "<row>", "invalid JSON"),
    (3, "<row>", "invalid UTF-8"),
    (4, "<row>", "expected a JSON object"),
    (5, "chosen", "missing required field"),
    (6, "prompt", "expected a string or a list of chat messages"),
    (7, "chosen", "empty text"),
    (8, "rejected", "identical to chosen"),
    (9, "id", "first seen on line 1"),
    (10, "rejected", "over the limit of 100"),
    (11, "prompt[0].role", "bad message role 'robot'"),
    (12, "margin", "expected a finite number"),
    (14, "prompt", "lone surrogate"),
]
