"""One full PPO round on a tiny model (rollout, old/ref log-probs, GAE, clipped updates), and whole runs of
PPO, GRPO and RLOO: metrics, samples, checkpoints, resume to the same result."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from tests.unit.algorithms.online.conftest import online_config


def _context(config, policy_dir):
    from accelerate import Accelerator

    from alignlab.algorithms.online.loop import Context, build_optimizer
    from alignlab.algorithms.online.models import load_policy, load_reference
    from alignlab.algorithms.ppo import PPOMethod

    policy, tokenizer = load_policy(config, [])
    method = PPOMethod(config)
    trainable = method.build(config, policy, tokenizer)
    accelerator = Accelerator(cpu=True)
    optimizer = build_optimizer(config, method, trainable)
    model, optimizer = accelerator.prepare(trainable, optimizer)
    return method, Context(config, accelerator, model, optimizer, policy, load_reference(config, policy, tokenizer),
                           tokenizer, step=1)


def test_one_ppo_round_updates_policy_and_value_head(tmp_path, policy):
    from alignlab.algorithms.online.data import prepare, read_prompts
    from alignlab.algorithms.online.engines import build_engine, sampling_params
    from alignlab.algorithms.online.rollout import collect
    from alignlab.rewards import build_rewards

    config = online_config("ppo", tmp_path, policy, train={"epochs": 2, "minibatch_size": 4},
                           rollout={"unfinished_reward": -1.0}, ppo={"kl_target": 1.0})
    method, ctx = _context(config, policy)
    split = prepare(read_prompts(config.data), ctx.tokenizer, config.data, max_new_tokens=12, context=1024)
    engine = build_engine(config.rollout, ctx.policy, ctx.tokenizer, str(policy), seed=0)
    assert engine.model is ctx.policy  # hf shares the training weights: nothing to sync
    rollout = collect(engine, split.train[:8], sampling_params(config.rollout, 1, seed=3),
                      build_rewards(config.rewards), ctx.tokenizer, unfinished_reward=-1.0, device="cpu")
    assert rollout.input_ids.shape[0] == 8 and rollout.response_mask.shape[1] <= 12
    unfinished = ~rollout.finished
    assert torch.all(rollout.scores[unfinished] == -1.0)  # no reward without eos, as configured
    before = {name: p.detach().clone() for name, p in ctx.model.named_parameters()}
    metrics = method.update(ctx, rollout)
    for key in ("loss/policy", "loss/value", "clipfrac", "entropy", "kl", "kl_coef", "approx_kl", "returns"):
        assert key in metrics and metrics[key] == metrics[key], key  # present and not NaN
    changed = {name for name, p in ctx.model.named_parameters() if not torch.equal(before[name], p)}
    assert "value_head.weight" in changed and any(name.startswith("policy.") for name in changed)
    assert abs(metrics["kl"]) < 1e-4  # first round: policy == reference before the update
    assert metrics["entropy"] > 0
    assert method.state_dict()["kl_coef"] < config.ppo.kl_coef  # KL 0 < target 1: the adaptive beta shrinks


@pytest.mark.parametrize("value_model", ["head", "critic"])
def test_critic_lr_reaches_the_value_models_param_group(tmp_path, policy, reward_folder, value_model):
    from alignlab.algorithms.online.loop import build_optimizer
    from alignlab.algorithms.online.models import load_policy
    from alignlab.algorithms.ppo import PPOMethod

    def groups(**ppo):
        config = online_config("ppo", tmp_path, policy, rewards=[{"model": str(reward_folder)}],
                               ppo={"value_model": value_model, **ppo}, train={"lr": 1e-4})
        method = PPOMethod(config)
        trainable = method.build(config, *load_policy(config, []))
        optimizer = build_optimizer(config, method, trainable)
        value = trainable.value_head if value_model == "head" else trainable.critic
        by_name = {group["name"]: group for group in optimizer.param_groups}
        assert {id(p) for p in by_name["value"]["params"]} == {id(p) for p in value.parameters()}
        assert {id(p) for p in by_name["policy"]["params"]} == {id(p) for p in trainable.policy.parameters()}
        return by_name["policy"]["lr"], by_name["value"]["lr"]

    assert groups() == (1e-4, 1e-4)  # default: the policy's learning rate
    assert groups(critic_lr=3e-3) == (1e-4, 3e-3)


@pytest.mark.parametrize("kind", ["ppo", "grpo", "rloo"])
def test_a_short_run_writes_everything_and_resumes_to_the_same_result(tmp_path, policy, kind):
    import importlib

    train = getattr(importlib.import_module(f"alignlab.algorithms.{kind}"), f"train_{kind}")
    config = online_config(kind, tmp_path, policy, guards={"kl_budget": 50.0})
    run = train(config, echo=lambda _: None)
    summary = run.summary()
    assert summary["method"] == kind and summary["steps"] == 2 and summary["kl"]["within_budget"] is True
    assert {"eval/reward", "eval/reward/sentiment", "eval/finished"} <= summary["eval"].keys()
    metrics = [m for m in run.metrics() if "reward/mean" in m]
    assert [m["step"] for m in metrics] == [1, 2]
    assert {"time/generation", "time/scoring", "time/training", "response_length", "kl"} <= metrics[0].keys()
    rows = [json.loads(line) for line in (run.dir / "samples" / "step_2.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and {"prompt", "completion", "reward", "reward/sentiment", "finished"} <= rows[0].keys()
    assert (run.dir / "model" / "model.safetensors").is_file()
    # interrupted after step 1: remove what step 2 and the end wrote; the same call resumes and ends the same
    (run.dir / "summary.json").unlink()
    shutil.rmtree(run.dir / "checkpoints" / "step_2")
    shutil.rmtree(run.dir / "model")
    lines = []
    resumed = train(config, echo=lines.append)
    assert any(line.startswith("resuming from") for line in lines)
    assert resumed.summary()["eval"] == pytest.approx(summary["eval"])
    assert resumed.summary()["eval_before"] == pytest.approx(summary["eval_before"])
