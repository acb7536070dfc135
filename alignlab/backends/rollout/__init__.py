"""Rollout engines: text in, sampled completions (token ids and log-probs) out.

    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    engine = ROLLOUT_ENGINES.get("hf")(model, tokenizer, batch_size=16)
    completions = engine.generate(["<|user|>\\nHi<|end|><|assistant|>\\n"], SamplingParams(max_new_tokens=32))

`base.py` holds the interface every engine implements (`RolloutEngine`: `generate`, `update_weights`) and its
plain data types; `hf.py` is transformers' `generate` (CPU or GPU); `vllm.py` is vLLM colocated in the process
(`VLLMRolloutEngine`, registered as "vllm"; GPU, or CPU with vLLM's CPU build); `vllm_server.py` is a shared
rollout server (`alignlab rollout serve`, `VLLMServerEngine`) and `vllm_worker.py` the weight reload that runs
inside it. Importing the package imports no torch and no vllm.
"""

from alignlab.backends.rollout.base import Completion, RolloutEngine, SamplingParams
from alignlab.registry import Registry

ROLLOUT_ENGINES: Registry[type] = Registry("rollout engine")
ROLLOUT_ENGINES.register("hf", "alignlab.backends.rollout.hf:HFRolloutEngine")
ROLLOUT_ENGINES.register("vllm", "alignlab.backends.rollout.vllm:VLLMRolloutEngine")  # vllm imported only when built

__all__ = ["ROLLOUT_ENGINES", "Completion", "RolloutEngine", "SamplingParams"]
