"""`alignlab train sft`: supervised fine-tuning / instruction tuning with TRL's SFTTrainer.

    from alignlab.algorithms.sft import train_sft
    from alignlab.config import load_config
    from alignlab.config.lifecycle import SFTConfig
    run = train_sft(load_config("configs/sft/tiny.yaml", SFTConfig))
    run.summary()["model"]            # <run>/model: the fine-tuned model + tokenizer (LoRA merged)
    run.summary()["eval"]["loss"]     # held-out loss on assistant tokens; "eval_before" at step 0

Chat (`messages`) or prompt/completion rows, or a `synthetic:` spec, formatted with the tokenizer's chat
template; the loss is on assistant tokens only (`alignlab.backends.lifecycle.sft`). Re-running resumes from the
last complete checkpoint; a finished run is reused unless `force`.
"""

from __future__ import annotations

from alignlab.backends.lifecycle.base import Echo, run_backend
from alignlab.config.lifecycle import SFTConfig
from alignlab.runs import Run


def train_sft(config: SFTConfig, *, force: bool = False, echo: Echo = print) -> Run:
    """Fine-tune `config.model` on chat data as `config` says; returns the finished run."""
    return run_backend("sft", config, force=force, echo=echo)
