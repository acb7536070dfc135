"""Lifecycle backends: what turns data into a policy checkpoint before alignment starts.

    from alignlab.backends.lifecycle import LIFECYCLE_BACKENDS
    backend = LIFECYCLE_BACKENDS.get("sft")
    prepared = backend.prepare(config, echo=print)          # reads and checks everything a user can get wrong
    model_dir = backend.run(config, run, echo=print, prepared=prepared)   # trains, saves, writes summary.json

One interface (`base.LifecycleBackend`), four backends, picked by name from a registry:

- `pretrain` (`causal_lm.py`): a causal LM from random weights on raw text packed into blocks, with the
  transformers Trainer (resume from the last complete checkpoint).
- `cpt` (`causal_lm.py`): continued pretraining, the same on an existing model's weights.
- `sft` (`sft.py`): TRL's SFTTrainer on chat or prompt/completion data with the tokenizer's chat template and
  the loss on assistant tokens only.
- `external` (`external.py`): another framework's command line; its log streams into the run directory and the
  checkpoint it writes is picked up.

Each backend's `run` saves the model and its tokenizer together (safetensors) and finishes the run with a
summary whose `model` is that folder. `alignlab.algorithms.{pretrain,sft,external}` are the entry points.
"""

from __future__ import annotations

from alignlab.backends.lifecycle.base import LIFECYCLE_BACKENDS, LifecycleBackend

__all__ = ["LIFECYCLE_BACKENDS", "LifecycleBackend"]
