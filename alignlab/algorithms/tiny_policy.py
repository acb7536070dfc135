"""A tiny offline starting policy for DPO/KTO demos and tests: random-init tiny weights, briefly SFT'd.

Preference optimisation starts from a policy that already writes in the task's format (the SFT step of the
lifecycle). With no hub and no real model, `build_tiny_policy` makes one in seconds: `alignlab models tiny`
weights and tokenizer, then `sft_steps` causal-LM steps on the training prompts with *both* responses of every
pair (or every completion), so the policy learns the format and no preference. It is written atomically to
`model.name_or_path` with `alignlab_tiny_policy.json` recording how, and reused by later runs.

It keeps its own twenty-line loop rather than the lifecycle SFT backend (`alignlab train sft`) on purpose: a
policy built inside another run's start-up should cost seconds and leave no run folder, checkpoints or card
behind, and the tests' reference numbers rest on these exact steps. For a real starting policy, run the SFT
backend (or a pipeline's sft stage) and point `model.name_or_path` at its model.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alignlab.config.dpo import TinyPolicySection
from alignlab.errors import AlignlabError, ConfigError

MANIFEST = "alignlab_tiny_policy.json"
MAX_SFT_EXAMPLES = 1024
SFT_BATCH = 16
SFT_MAX_TOKENS = 256


def ensure_tiny_policy(section: TinyPolicySection, out: Path, records: Sequence[dict]) -> Path:
    """The tiny policy at `out`: built when nothing is there, reused when it was built with these settings."""
    manifest = out / MANIFEST
    if not out.exists():
        return build_tiny_policy(section, out, records)
    if manifest.is_file():
        built = json.loads(manifest.read_text(encoding="utf-8"))
        different = [k for k, v in section.model_dump().items() if built.get(k) != v]
        if different:
            raise ConfigError(f"{out}: holds a tiny policy built with other tiny_policy settings "
                              f"({', '.join(different)}); delete the folder or point model.name_or_path elsewhere")
    return out


def build_tiny_policy(section: TinyPolicySection, out: Path, records: Sequence[dict]) -> Path:
    """Build, SFT and save the tiny policy at `out` (a new folder)."""
    from alignlab.models import build_tiny_models, load_causal_lm, load_tokenizer
    from alignlab.models._rng import seeded_torch
    from alignlab.utils.io import atomic_dir, atomic_write_json

    if out.exists():
        raise AlignlabError(f"{out} already exists; the tiny policy is only built where nothing is")
    with tempfile.TemporaryDirectory() as tmp:
        built = build_tiny_models(Path(tmp) / "tiny", size=section.size, seed=section.seed)
        tokenizer = load_tokenizer(built.policy_dir)
        policy = load_causal_lm(built.policy_dir)
    texts = sft_texts(records[:MAX_SFT_EXAMPLES], tokenizer)
    with seeded_torch(section.seed):
        losses = causal_lm_steps(policy, tokenizer, texts, steps=section.sft_steps, lr=section.sft_lr,
                                 seed=section.seed)
    with atomic_dir(out) as target:
        policy.save_pretrained(target)
        tokenizer.save_pretrained(target)
        atomic_write_json(target / MANIFEST, {
            "kind": "alignlab tiny policy", **section.model_dump(), "sft_examples": len(texts),
            "sft_loss_first": losses[0] if losses else None, "sft_loss_last": losses[-1] if losses else None,
        })
    return out


def sft_texts(records: Sequence[dict], tokenizer: Any) -> list[str]:
    """Prompt + response texts (every response side of every record) in the tokenizer's chat format."""
    from alignlab.data import to_trl

    texts = []
    for record in records:
        fmt = "unpaired" if "completion" in record else "pairwise"
        row = to_trl(record, fmt, "conversational")
        for side in ("chosen", "rejected", "completion"):
            if side in row:
                texts.append(tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=False))
    return texts


def causal_lm_steps(model: Any, tokenizer: Any, texts: Sequence[str], *, steps: int, lr: float,
                    seed: int) -> list[float]:
    """`steps` AdamW steps of next-token prediction on random batches of `texts`; the losses."""
    import torch

    if steps == 0 or not texts:
        return []
    encoded = tokenizer(list(texts), add_special_tokens=False, truncation=True, max_length=SFT_MAX_TOKENS,
                        padding=True, return_tensors="pt")
    labels = encoded["input_ids"].masked_fill(encoded["attention_mask"] == 0, -100)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        index = torch.randint(len(texts), (min(SFT_BATCH, len(texts)),), generator=generator)
        width = int(encoded["attention_mask"][index].sum(1).max())
        out = model(input_ids=encoded["input_ids"][index, :width],
                    attention_mask=encoded["attention_mask"][index, :width], labels=labels[index, :width])
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(out.loss.item(), 6))
    model.eval()
    return losses
