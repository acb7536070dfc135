"""Regenerate instructions.jsonl: python data/lifecycle/instructions/make_instructions.py

Neutral instruction-following conversations for SFT demos: the story prompts of alignlab.synthetic with the
rule-free side of its `keyword` pairs (a short story with a filler word where the keyword would go), so the
responses hold no keyword and no sentiment words and an SFT'd model learns the format and no preference.
Every 10th conversation starts with a system turn and every 7th has a second user/assistant exchange.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from alignlab.synthetic import make_pairwise

N = 600
SYSTEM = "You are a helpful assistant who tells short, simple stories."
FOLLOW_UPS = ("Tell me more.", "What happened next?", "Can you tell another one?")


def main() -> None:
    rng = random.Random("alignlab-sft-instructions/0")
    pairs = make_pairwise(2 * N, seed=7, rule="keyword", chat=True)
    lines = []
    for index in range(N):
        first, second = pairs[2 * index], pairs[2 * index + 1]
        messages = [*first["prompt"], *first["rejected"]]
        if index % 10 == 0:
            messages = [{"role": "system", "content": SYSTEM}, *messages]
        if index % 7 == 0:
            messages += [{"role": "user", "content": rng.choice(FOLLOW_UPS)}, *second["rejected"]]
        lines.append(json.dumps({"messages": messages}, ensure_ascii=False))
    out = Path(__file__).with_name("instructions.jsonl")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
