"""The vLLM engines: version and presence checks everywhere; generation and weight sync on a GPU only."""

from __future__ import annotations

import pytest

from alignlab.backends.rollout.vllm import check_vllm_version, installed_vllm
from alignlab.errors import AlignlabError, ConfigError, RunError


def test_version_range():
    assert check_vllm_version("0.22.0") == "0.22.0"
    assert check_vllm_version("0.31.9") == "0.31.9"
    for version in ("0.21.1", "0.32.0", "1.0.0"):
        with pytest.raises(ConfigError, match=r"outside the supported range vllm>=0.22,<0.32") as err:
            check_vllm_version(version)
        assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="vLLM is not installed"):
        check_vllm_version(None)


@pytest.mark.skipif(installed_vllm() is not None, reason="vLLM is installed here")
def test_training_with_vllm_absent_fails_in_one_line_before_the_run_dir(tmp_path, policy):
    from alignlab.algorithms.grpo import train_grpo
    from tests.unit.online_rl.conftest import online_config

    config = online_config("grpo", tmp_path, policy, rollout={"engine": "vllm"})
    with pytest.raises(ConfigError, match="vLLM is not installed.*rollout.engine: hf"):
        train_grpo(config, echo=lambda _: None)


def test_server_mode_without_a_server_is_one_line(tokenizer):
    from alignlab.backends.rollout.vllm import VLLMServerEngine

    with pytest.raises(RunError) as err:
        VLLMServerEngine("http://127.0.0.1:9", tokenizer, timeout_s=5)
    assert "no vLLM server answers" in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, AlignlabError)


# -- GPU: a locally built Llama of a few hundred million parameters, colocated vLLM -------------------------


@pytest.fixture(scope="module")
def gpu_model(tmp_path_factory):
    """A ~300M-parameter random Llama with the tiny tokenizer, saved locally (no hub)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from alignlab.models import build_tiny_models, load_tokenizer

    tiny = build_tiny_models(tmp_path_factory.mktemp("gpu") / "tiny", size="nano")
    tokenizer = load_tokenizer(tiny.policy_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=1024, intermediate_size=4096, num_hidden_layers=20,
                         num_attention_heads=16, num_key_value_heads=8, max_position_embeddings=1024,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, torch_dtype="bfloat16")
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    out = tmp_path_factory.mktemp("gpu") / "llama300m"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    assert 2e8 < sum(p.numel() for p in model.parameters()) < 6e8
    return out


@pytest.mark.gpu
def test_colocated_vllm_generates_and_takes_new_weights(gpu_model):
    import torch

    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.models import load_causal_lm, load_tokenizer

    tokenizer = load_tokenizer(gpu_model)
    engine = ROLLOUT_ENGINES.get("vllm")(str(gpu_model), tokenizer, gpu_memory_utilization=0.3, enforce_eager=True)
    prompts = ["Tom saw the", "Lily had a big"]
    first = engine.generate(prompts, SamplingParams(max_new_tokens=8, temperature=1.0, n=3, seed=1))
    assert len(first) == 6 and all(len(c.token_ids) == len(c.logprobs) > 0 for c in first)
    assert all(lp <= 0 for c in first for lp in c.logprobs)

    # The HF model's log-probs of vLLM's samples match vLLM's own (same weights, temperature 1).
    policy = load_causal_lm(gpu_model, dtype="bfloat16").cuda()
    sample = first[0]
    prompt_ids = tokenizer(prompts[0], add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + list(sample.token_ids)], device="cuda")
    with torch.no_grad():
        logits = policy(ids).logits[0, len(prompt_ids) - 1:-1].float()
    hf = torch.log_softmax(logits, -1).gather(-1, ids[0, len(prompt_ids):, None]).squeeze(-1)
    assert torch.allclose(hf.cpu(), torch.tensor(sample.logprobs), atol=0.1)

    greedy = SamplingParams(max_new_tokens=8)
    before = [c.token_ids for c in engine.generate(prompts, greedy)]
    with torch.no_grad():
        for param in policy.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    engine.update_weights(policy.state_dict())
    after = [c.token_ids for c in engine.generate(prompts, greedy)]
    assert after != before  # the engine now samples from the new weights
    from alignlab.backends.rollout.hf import HFRolloutEngine

    expected = [c.token_ids for c in HFRolloutEngine(policy, tokenizer).generate(prompts, greedy)]
    agree = sum(a[:4] == e[:4] for a, e in zip(after, expected, strict=True))
    assert agree >= 1  # bf16 kernels differ; the first greedy tokens of the same weights agree


@pytest.mark.gpu
def test_grpo_run_with_colocated_vllm(tmp_path, policy):
    from alignlab.algorithms.grpo import train_grpo
    from tests.unit.online_rl.conftest import online_config

    config = online_config("grpo", tmp_path, policy, rollout={"engine": "vllm", "vllm": {"enforce_eager": True}})
    run = train_grpo(config, echo=lambda _: None)
    summary = run.summary()
    assert summary["rollout_engine"] == "vllm" and summary["steps"] == 2
    assert any("time/weight_sync" in m and m["time/weight_sync"] > 0 for m in run.metrics())
