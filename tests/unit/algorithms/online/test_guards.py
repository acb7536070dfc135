"""Reward-hacking guards: the KL budget, the reward ensemble's spread, and the gap between the training reward's
and the held-out oracle's gains. Each is checked on hand-made metric streams, then end to end on the tiny
policy: a breach with `guards.early_stop` ends the run early and says why in summary.json; rewards that agree
let it run to the end."""

from __future__ import annotations

import pytest
import torch

from alignlab.algorithms.online.loop import _divergence, _guards
from tests.unit.algorithms.online.conftest import online_config


def _guard_section(**values):
    from alignlab.config.online import GuardSection

    return GuardSection.model_validate(values)


# -- the guard arithmetic on streams of metrics ------------------------------------------------------------


def test_kl_budget_stops_at_the_first_round_over_it():
    guards, state = _guard_section(kl_budget=2.0, early_stop=True), {}
    stream = [0.5, 1.9, 2.5, 0.1]
    reasons = []
    for kl in stream:
        metrics = {"kl": kl}
        reasons.append(_guards(guards, metrics, state))
        assert metrics["guards/kl_budget_used"] == pytest.approx(kl / 2.0)
    assert reasons[:2] == [None, None] and "guards.kl_budget 2.0" in reasons[2] and "2.500" in reasons[2]
    assert state["kl_max"] == 2.5 and state["kl_breaches"] == 1
    # without early_stop the breach is counted but training goes on
    quiet = {}
    assert [_guards(_guard_section(kl_budget=2.0), {"kl": kl}, quiet) for kl in stream] == [None] * 4
    assert quiet["kl_breaches"] == 1 and quiet["kl_max"] == 2.5


def test_ensemble_spread_stops_when_members_disagree():
    guards = _guard_section(max_ensemble_std=1.0, early_stop=True)
    state = {}
    assert _guards(guards, {"kl": 0.0, "reward/ensemble_std": 0.4}, state) is None
    reason = _guards(guards, {"kl": 0.0, "reward/ensemble_std": 1.7}, state)
    assert "reward ensemble spread 1.700" in reason and "guards.max_ensemble_std 1.0" in reason
    assert state["ensemble_breaches"] == 1
    # no ensemble (rule rewards only): nothing to compare, never a breach
    assert _guards(guards, {"kl": 0.0}, {}) is None


def test_oracle_divergence_compares_gains_not_levels():
    guards = _guard_section(oracle=[{"rule": "sentiment"}], max_divergence=1.0, early_stop=True)
    state = {"baseline": {"eval/reward": 5.0, "eval/oracle": -3.0}}
    # both rose by 2: they agree, whatever their levels
    agree = {"eval/reward": 7.0, "eval/oracle": -1.0}
    assert _divergence(guards, agree, state) is None and agree["eval/oracle_divergence"] == pytest.approx(0.0)
    # the training reward rose by 2, the oracle by 0.5: a gap of 1.5 over the allowed 1.0
    apart = {"eval/reward": 7.0, "eval/oracle": -2.5}
    reason = _divergence(guards, apart, state)
    assert apart["eval/oracle_divergence"] == pytest.approx(1.5)
    assert "1.500 more than the oracle" in reason and "guards.max_divergence 1.0" in reason
    # the oracle gaining more than the training reward is no hacking
    assert _divergence(guards, {"eval/reward": 5.0, "eval/oracle": 3.0}, state) is None
    # tracked, but no stop, without early_stop
    tracked = {"eval/reward": 9.0, "eval/oracle": -3.0}
    assert _divergence(_guard_section(oracle=[{"rule": "sentiment"}], max_divergence=1.0), tracked, state) is None
    assert tracked["eval/oracle_divergence"] == pytest.approx(4.0)


# -- end to end on the tiny policy ---------------------------------------------------------------------------


def _ensemble(root, policy, head_scales):
    """An ensemble reward folder (the layout `alignlab rm train` writes) whose members share one random head,
    each multiplied by its scale: equal scales agree exactly, opposite ones disagree by 2 x |scale| x score."""
    from alignlab.models import load_reward_model, load_tokenizer
    from alignlab.models.reward import CARD_NAME, InputFormat
    from alignlab.utils.io import atomic_write_json

    tokenizer = load_tokenizer(policy)
    root.mkdir(parents=True)
    tokenizer.save_pretrained(root)
    members = [f"members/{index}" for index in range(len(head_scales))]
    for relative, scale in zip(members, head_scales, strict=True):
        model = load_reward_model(policy, num_labels=1, seed=0, pad_token_id=tokenizer.pad_token_id)
        with torch.no_grad():
            model.score.weight.mul_(scale)
        model.save_pretrained(root / relative)
    atomic_write_json(root / CARD_NAME, {"kind": "ensemble", "member_kind": "bradley_terry", "members": members,
                                         "input": InputFormat.for_tokenizer(tokenizer, "auto", 256).to_dict()})
    return root


def _quiet(_line: str) -> None:
    return None


def test_ensemble_disagreement_stops_ppo_and_agreement_does_not(tmp_path, policy):
    from alignlab.algorithms.ppo import train_ppo

    guards = {"max_ensemble_std": 0.5, "early_stop": True}
    apart = _ensemble(tmp_path / "apart", policy, [200.0, -200.0])
    config = online_config("ppo", tmp_path / "a", policy, rewards=[{"model": str(apart), "name": "rm"}],
                           guards=guards, train={"steps": 3})
    run = train_ppo(config, echo=_quiet)
    summary = run.summary()
    assert summary["steps"] == 1 and summary["ensemble_breaches"] == 1
    reason = summary["stopped_early"]
    assert "reward ensemble spread" in reason and "guards.max_ensemble_std" in reason
    logged = [m for m in run.metrics() if "reward/ensemble_std" in m]
    assert [m["step"] for m in logged] == [1] and logged[0]["reward/ensemble_std"] > 0.5
    assert (run.dir / "model" / "model.safetensors").is_file()  # a stopped run still finishes cleanly
    assert summary["eval"]["eval/reward"] == summary["eval"]["eval/reward"]  # held-out reward after the stop

    # interrupted after the stop was checkpointed: resuming must not train past it
    (run.dir / "summary.json").unlink()
    resumed = train_ppo(config, echo=_quiet).summary()
    assert resumed["steps"] == 1 and resumed["stopped_early"] == reason

    together = _ensemble(tmp_path / "together", policy, [200.0, 200.0])
    config = online_config("ppo", tmp_path / "b", policy, rewards=[{"model": str(together), "name": "rm"}],
                           guards=guards, train={"steps": 3})
    run = train_ppo(config, echo=_quiet)
    summary = run.summary()
    assert summary["steps"] == 3 and summary["stopped_early"] is None and summary["ensemble_breaches"] == 0
    spreads = [m["reward/ensemble_std"] for m in run.metrics() if "reward/ensemble_std" in m]
    assert len(spreads) == 3 and max(spreads) < 1e-6


@pytest.fixture
def drifting_rule():
    """A training reward that climbs by 100 every time it is scored, whatever the text: what a hacked reward
    looks like from outside (the held-out oracle, the `sentiment` rule, cannot follow it)."""
    from alignlab.rewards.rules import RULES

    def drift():
        calls = [0]

        def reward(prompts, completions, **_):
            calls[0] += 1
            return [100.0 * calls[0]] * len(completions)

        return reward

    RULES.register("test_drift", drift)
    yield "test_drift"
    RULES._targets.pop("test_drift")


def test_oracle_divergence_stops_grpo_and_agreement_does_not(tmp_path, policy, drifting_rule):
    from alignlab.algorithms.grpo import train_grpo

    guards = {"oracle": [{"rule": "sentiment", "name": "oracle"}], "max_divergence": 1.0, "early_stop": True}
    config = online_config("grpo", tmp_path / "a", policy, rewards=[{"rule": drifting_rule}], guards=guards,
                           train={"steps": 3, "eval_steps": 1})
    run = train_grpo(config, echo=_quiet)
    summary = run.summary()
    assert summary["steps"] == 1, summary["stopped_early"]
    assert "more than the oracle" in summary["stopped_early"] and "guards.max_divergence" in summary["stopped_early"]
    gaps = [m["eval/oracle_divergence"] for m in run.metrics() if "eval/oracle_divergence" in m]
    assert gaps and gaps[0] > 1.0 and summary["eval"]["eval/oracle_divergence"] > 1.0

    # the oracle is the training reward itself: the gains are equal at every evaluation, so no stop
    config = online_config("grpo", tmp_path / "b", policy, rewards=[{"rule": "sentiment"}], guards=guards,
                           train={"steps": 3, "eval_steps": 1})
    run = train_grpo(config, echo=_quiet)
    summary = run.summary()
    assert summary["steps"] == 3 and summary["stopped_early"] is None
    gaps = [m["eval/oracle_divergence"] for m in run.metrics() if "eval/oracle_divergence" in m]
    assert len(gaps) == 3 and all(abs(gap) < 1e-9 for gap in gaps)  # steps 1 and 2, and the final evaluation


def test_kl_budget_stops_ppo_once_the_policy_moves(tmp_path, policy):
    from alignlab.algorithms.ppo import train_ppo

    # a large learning rate and no KL penalty: the policy leaves the reference within a few rounds
    config = online_config("ppo", tmp_path, policy, guards={"kl_budget": 0.5, "early_stop": True},
                           train={"steps": 6, "lr": 5e-3, "prompts_per_step": 8}, ppo={"kl_coef": 0.0})
    run = train_ppo(config, echo=_quiet)
    summary = run.summary()
    kl = summary["kl"]
    assert 1 < summary["steps"] < 6, summary  # round 1 samples from the reference itself: KL 0
    assert "guards.kl_budget 0.5" in summary["stopped_early"]
    assert kl["max"] > 0.5 and kl["breaches"] == 1 and kl["within_budget"] is False
    rounds = [m for m in run.metrics() if "kl" in m]
    assert [m["step"] for m in rounds] == list(range(1, summary["steps"] + 1))
    assert rounds[-1]["guards/kl_budget_used"] > 1.0 and all(m["guards/kl_budget_used"] <= 1.0 for m in rounds[:-1])
