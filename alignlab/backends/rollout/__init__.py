"""Rollout engines: text in, sampled completions (token ids and log-probs) out.

    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    engine = ROLLOUT_ENGINES.get("hf")(model, tokenizer, batch_size=16)
    completions = engine.generate(["<|user|>\\nHi<|end|><|assistant|>\\n"], SamplingParams(max_new_tokens=32))

`base.py` holds the interface every engine implements (`RolloutEngine`: `generate`, `update_weights`) and its
plain data types; `hf.py` is transformers' `generate` (CPU or GPU). A vLLM engine registers here as "vllm"
when it lands; nothing outside this package needs to change. Importing the package imports no torch.
"""

from alignlab.backends.rollout.base import Completion, RolloutEngine, SamplingParams
from alignlab.registry import Registry

ROLLOUT_ENGINES: Registry[type] = Registry("rollout engine")
ROLLOUT_ENGINES.register("hf", "alignlab.backends.rollout.hf:HFRolloutEngine")

__all__ = ["ROLLOUT_ENGINES", "Completion", "RolloutEngine", "SamplingParams"]
