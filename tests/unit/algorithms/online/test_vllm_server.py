"""Server mode on vLLM's CPU build: `alignlab rollout serve` as a real process, weight sync through safetensors
files and the server's RPC endpoint (no NCCL), the checks made on connect, and the scale-out shape: GRPO and PPO
on 2 trainer processes (`alignlab launch`, DDP over gloo) sharing one rollout server.

Equivalence of 2 processes and 1: the same global batch (the prompts of a round depend only on (seed, step),
split in rank order), the same samples (vLLM seeds every request's own generator with the round's seed, so a
prompt's samples do not depend on which process sent it), and DDP averages equal-sized per-rank gradients. GRPO
averages per-sequence losses, so its per-process means average to the global one. PPO's token-mean loss and its
advantage whitening are per process: the PPO case uses one-token responses (equal token counts) and no
whitening, which makes its global loss the mean of the per-process ones too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from alignlab.errors import ConfigError
from tests.conftest import run_cli_in_own_session
from tests.unit.algorithms.online.vllm_support import RolloutServer, needs_vllm

PROMPTS = ["<|user|>\nTell me a story.<|end|><|assistant|>\n", "<|user|>\nWrite about a cat.<|end|><|assistant|>\n"]


@pytest.fixture(scope="module")
def server(policy, tmp_path_factory):
    from alignlab.backends.rollout.vllm import installed_vllm

    if installed_vllm() is None:
        pytest.skip("vLLM not installed: run scripts/vllm_env.sh")
    started = RolloutServer(policy, tmp_path_factory.mktemp("server") / "server.log")
    yield started
    started.stop()


@needs_vllm
def test_server_generates_and_takes_weights_from_files(server, policy, tokenizer):
    import torch

    from alignlab.backends.rollout import SamplingParams
    from alignlab.backends.rollout.hf import HFRolloutEngine
    from alignlab.backends.rollout.vllm_server import VLLMServerEngine
    from alignlab.models import load_causal_lm

    engine = VLLMServerEngine(server.url, tokenizer, model_path=str(policy), timeout_s=120)
    greedy = SamplingParams(max_new_tokens=10)
    trained = load_causal_lm(policy).eval()
    original = {name: tensor.clone() for name, tensor in trained.state_dict().items()}
    engine.update_weights(original)  # the server may hold another test's weights
    before = engine.generate(PROMPTS, greedy)
    assert [c.token_ids for c in before] == [c.token_ids for c in HFRolloutEngine(trained, tokenizer).generate(
        PROMPTS, greedy)]
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in trained.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.2)
    engine.update_weights(trained.state_dict())
    assert engine.last_sync["write"] > 0 and engine.last_sync["reload"] > 0
    after = engine.generate(PROMPTS, greedy)
    expected = HFRolloutEngine(trained, tokenizer).generate(PROMPTS, greedy)
    assert [c.token_ids for c in after] != [c.token_ids for c in before]
    assert [c.token_ids for c in after] == [c.token_ids for c in expected]
    assert [x for c in after for x in c.logprobs] == pytest.approx([x for c in expected for x in c.logprobs],
                                                                   abs=1e-4)
    engine.update_weights(original)


@needs_vllm
def test_server_of_another_model_is_one_line(server, tokenizer, tmp_path):
    from alignlab.backends.rollout.vllm_server import VLLMServerEngine

    with pytest.raises(ConfigError, match=r"the server serves .* not the trainer's model") as err:
        VLLMServerEngine(server.url, tokenizer, model_path=str(tmp_path / "other-policy"), timeout_s=30)
    assert "\n" not in str(err.value) and "alignlab rollout serve" in str(err.value)


@needs_vllm
def test_server_of_another_vllm_release_is_one_line(server, policy, tokenizer, monkeypatch):
    """A fake, named as such: only one vLLM release is installable here, so this side's version is patched."""
    from alignlab.backends.rollout import vllm_server

    monkeypatch.setattr(vllm_server, "installed_vllm", lambda: "0.31.0")
    with pytest.raises(ConfigError, match=r"the server runs vLLM 0\.32.*this trainer has 0\.31\.0") as err:
        vllm_server.VLLMServerEngine(server.url, tokenizer, model_path=str(policy), timeout_s=30)
    assert "\n" not in str(err.value)


# -- scale-out: 2 trainer processes, 1 rollout server ------------------------------------------------------


def _alignlab(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    result = run_cli_in_own_session(*args, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _losses(run_dir: Path, key: str) -> dict[int, float]:
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {m["step"]: m[key] for m in lines if key in m and m["step"] > 0}


SCALE_OUT = {
    "grpo": ({"grpo": {"num_generations": 2, "beta": 0.04}}, {"max_new_tokens": 8}, ["loss/policy", "reward/mean"]),
    "ppo": ({"ppo": {"whiten_advantages": False, "kl_coef": 0.05}}, {"max_new_tokens": 1},
            ["loss/policy", "loss/value", "reward/mean"]),
}


@needs_vllm
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["grpo", "ppo"])
def test_two_trainer_processes_share_one_server_and_match_one_process(kind, server, policy, tmp_path):
    method, rollout, keys = SCALE_OUT[kind]
    config = {
        "run": {"name": kind, "output_dir": str(tmp_path / "runs"), "seed": 0, "threads": 1},
        "model": {"name_or_path": str(policy)},
        "data": {"path": "synthetic:sentiment?n=200&seed=0&chat=1", "test_size": 0.1, "max_prompt_length": 64},
        "rollout": {"engine": "vllm", "temperature": 1.0, **rollout,
                    "vllm": {"mode": "server", "server_url": server.url, "timeout_s": 120}},
        "rewards": [{"rule": "sentiment"}],
        "train": {"steps": 2, "prompts_per_step": 4, "lr": 1e-3, "minibatch_size": 64, "eval_prompts": 4,
                  "eval_steps": 10, "save_steps": 10, "sample_steps": 10},
        **method,
    }
    path = tmp_path / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(config))
    _alignlab("train", kind, "--config", str(path), "run.name=one")
    _alignlab("launch", "--config-file", "configs/accelerate/ddp_cpu.yaml", "--num-processes", "2", "--", "train",
              kind, "--config", str(path), "run.name=two", "train.prompts_per_step=2")
    for key in keys:
        one, two = _losses(tmp_path / "runs" / "one", key), _losses(tmp_path / "runs" / "two", key)
        assert sorted(one) == sorted(two) == [1, 2], key
        for step in one:
            assert two[step] == pytest.approx(one[step], rel=1e-3, abs=1e-5), (key, step, one, two)
    assert json.loads((tmp_path / "runs" / "two" / "summary.json").read_text())["rollout_engine"] == "vllm"


@pytest.mark.gpu
def test_nccl_weight_sync_on_a_gpu(policy, tokenizer, tmp_path):
    """The NCCL path (CUDA only): a server started with --nccl takes the weights over vLLM's weight transfer."""
    import torch

    from alignlab.backends.rollout import SamplingParams
    from alignlab.backends.rollout.vllm_server import VLLMServerEngine
    from alignlab.models import load_causal_lm

    server = RolloutServer(policy, tmp_path / "server.log", extra=["--nccl"])
    try:
        engine = VLLMServerEngine(server.url, tokenizer, model_path=str(policy), weight_sync="nccl")
        greedy = SamplingParams(max_new_tokens=10)
        before = [c.token_ids for c in engine.generate(PROMPTS, greedy)]
        trained = load_causal_lm(policy).cuda()
        with torch.no_grad():
            for param in trained.parameters():
                param.add_(torch.randn_like(param) * 0.2)
        engine.update_weights(trained.state_dict())
        assert [c.token_ids for c in engine.generate(PROMPTS, greedy)] != before
    finally:
        server.stop()
