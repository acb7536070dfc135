"""`alignlab train pretrain | cpt`: causal-LM pretraining from random weights, and continued pretraining.

    from alignlab.algorithms.pretrain import train_pretrain, train_cpt
    from alignlab.config import load_config
    from alignlab.config.lifecycle import PretrainConfig
    run = train_pretrain(load_config("configs/pretrain/tiny.yaml", PretrainConfig))
    run.summary()["model"]            # <run>/model: model.safetensors + tokenizer, loads with from_pretrained
    run.summary()["eval"]["loss"]     # held-out loss (and "perplexity"); "eval_before" holds the loss at step 0

Both run the lifecycle backends of the same names (`alignlab.backends.lifecycle.causal_lm`): raw text packed
into blocks, the transformers Trainer, resume from the last complete checkpoint, a finished run reused unless
`force`.
"""

from __future__ import annotations

from alignlab.backends.lifecycle.base import Echo, run_backend
from alignlab.config.lifecycle import CPTConfig, PretrainConfig
from alignlab.runs import Run


def train_pretrain(config: PretrainConfig, *, force: bool = False, echo: Echo = print) -> Run:
    """Pretrain a causal LM from random weights as `config` says; returns the finished run."""
    return run_backend("pretrain", config, force=force, echo=echo)


def train_cpt(config: CPTConfig, *, force: bool = False, echo: Echo = print) -> Run:
    """Continue pretraining `config.model` on raw text; returns the finished run."""
    return run_backend("cpt", config, force=force, echo=echo)
