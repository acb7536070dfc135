"""What PPO, GRPO and RLOO share (`alignlab.algorithms.ppo|grpo|rloo` hold only their update rules).

- `data.py`: prompts from a file or a synthetic spec, the held-out split, the chat template, length checks.
- `models.py`: policy, frozen reference, value head or critic, token log-probs, entropy.
- `engines.py`: the rollout engine a config names (hf or vllm), and weight sync after each update.
- `rollout.py`: one round of sampling + scoring into padded tensors (`Rollout`), with timing.
- `loop.py`: the run around an update rule: accelerate, checkpoints and resume, held-out reward, sampled
  generations, guards (KL budget, ensemble disagreement, oracle divergence), metrics, summary.
"""
