"""PPO-family losses against numbers worked out by hand (each case spells out the arithmetic)."""

from __future__ import annotations

import math

import pytest
import torch

from alignlab.losses.ppo import (
    AdaptiveKLController,
    gae,
    group_advantages,
    kl_penalty,
    masked_mean,
    ppo_policy_loss,
    ppo_value_loss,
    rloo_advantages,
    token_rewards,
    whiten,
)


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_gae_by_hand():
    # gamma 1, lambda 0.5, values 0.5 0.6 0.7, reward 1 at the end:
    # delta_2 = 1 - 0.7 = 0.3 -> A_2 = 0.3;  delta_1 = 0.7 - 0.6 = 0.1 -> A_1 = 0.1 + 0.5 * 0.3 = 0.25
    # delta_0 = 0.6 - 0.5 = 0.1 -> A_0 = 0.1 + 0.5 * 0.25 = 0.225; returns = A + V
    advantages, returns = gae(t([[0, 0, 1]]), t([[0.5, 0.6, 0.7]]), t([[1, 1, 1]]), gamma=1.0, lam=0.5)
    assert advantages.tolist()[0] == pytest.approx([0.225, 0.25, 0.3])
    assert returns.tolist()[0] == pytest.approx([0.725, 0.85, 1.0])


def test_gae_ignores_padding_and_bootstraps_zero_after_the_last_token():
    # gamma 0.9, lambda 1, last column is padding (its reward 9 and value 5 must not leak in):
    # delta_1 = 2 + 0.9 * 0 - 1 = 1 -> A_1 = 1;  delta_0 = 0 + 0.9 * 1 - 1 = -0.1 -> A_0 = -0.1 + 0.9 * 1 = 0.8
    advantages, returns = gae(t([[0, 2, 9]]), t([[1, 1, 5]]), t([[1, 1, 0]]), gamma=0.9, lam=1.0)
    assert advantages.tolist()[0] == pytest.approx([0.8, 1.0, 0.0])
    assert returns.tolist()[0] == pytest.approx([1.8, 2.0, 0.0])


def test_policy_loss_by_hand():
    # ratios 1.5, 0.5, 1.1 with advantages 1, 1, -1 and eps 0.2:
    # max(-1.5, -1.2) = -1.2 (clip binds); max(-0.5, -0.8) = -0.5; max(1.1, 1.1) = 1.1 -> mean -0.2, 1/3 clipped
    logprobs = t([[math.log(1.5), math.log(0.5), math.log(1.1)]])
    loss, clipfrac = ppo_policy_loss(logprobs, torch.zeros_like(logprobs), t([[1, 1, -1]]), t([[1, 1, 1]]), clip=0.2)
    assert loss.item() == pytest.approx(-0.2)
    assert clipfrac.item() == pytest.approx(1 / 3)


def test_policy_loss_masks_padding_and_has_the_policy_gradient():
    logprobs = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    loss, _ = ppo_policy_loss(logprobs, torch.zeros(1, 2, dtype=torch.float64), t([[2.0, 100.0]]), t([[1, 0]]))
    loss.backward()
    assert loss.item() == pytest.approx(-2.0)  # ratio 1: -A on the one real token
    assert logprobs.grad.tolist() == [[-2.0, 0.0]]  # d(-A * exp(l))/dl = -A at l = 0; padding gets nothing


def test_value_loss_by_hand():
    # token 1: V 1.0, V_old 0.5, R 1.0: unclipped 0, clipped V 0.7 -> 0.09 (clip binds);
    # token 2: V 0, V_old 0, R 1: both 1. loss = 0.5 * (0.09 + 1) / 2 = 0.2725, half the tokens clipped
    loss, clipfrac = ppo_value_loss(t([[1.0, 0.0]]), t([[0.5, 0.0]]), t([[1.0, 1.0]]), t([[1, 1]]), clip=0.2)
    assert loss.item() == pytest.approx(0.2725)
    assert clipfrac.item() == pytest.approx(0.5)
    plain, _ = ppo_value_loss(t([[1.0, 0.0]]), t([[0.5, 0.0]]), t([[1.0, 1.0]]), t([[1, 1]]), clip=None)
    assert plain.item() == pytest.approx(0.25)  # 0.5 * (0 + 1) / 2


def test_kl_estimators_by_hand():
    # log pi = -1, log pi_ref = -2: log r = -1; k1 = 1, k2 = 1/2, k3 = e^-1 - 1 + 1 = e^-1
    logprobs, ref = t([[-1.0]]), t([[-2.0]])
    assert kl_penalty(logprobs, ref, "k1").item() == pytest.approx(1.0)
    assert kl_penalty(logprobs, ref, "k2").item() == pytest.approx(0.5)
    assert kl_penalty(logprobs, ref, "k3").item() == pytest.approx(math.exp(-1))
    assert kl_penalty(ref, ref, "k3").item() == 0.0
    with pytest.raises(ValueError, match="k1, k2 or k3"):
        kl_penalty(logprobs, ref, "k4")


def test_kl_estimators_are_unbiased_on_samples():
    # Sampling from p, E[k1] = E[k3] = KL(p || q) exactly in expectation; check on a two-outcome distribution.
    p, q = torch.tensor([0.8, 0.2], dtype=torch.float64), torch.tensor([0.5, 0.5], dtype=torch.float64)
    exact = float((p * (p / q).log()).sum())
    for estimator in ("k1", "k3"):
        values = kl_penalty(p.log(), q.log(), estimator)
        assert float((p * values).sum()) == pytest.approx(exact)


def test_whiten_by_hand():
    # masked 1, 2, 3: mean 2, unbiased variance (1 + 0 + 1) / 2 = 1 -> -1, 0, 1; the padded 100 becomes 0
    out = whiten(t([[1, 2], [3, 100]]), t([[1, 1], [1, 0]]), eps=0.0)
    assert out.flatten().tolist() == pytest.approx([-1.0, 0.0, 1.0, 0.0])
    kept = whiten(t([[1, 2, 3]]), t([[1, 1, 1]]), shift_mean=False, eps=0.0)
    assert kept.tolist()[0] == pytest.approx([1.0, 2.0, 3.0])  # (x - 2) / 1 + 2


def test_token_rewards_put_the_score_on_the_last_real_token():
    # beta 0.5: -0.5 * [0.1, 0.2] plus score 2 on the second (last real) token; the padding stays 0
    out = token_rewards(t([2.0]), t([[0.1, 0.2, 0.3]]), t([[1, 1, 0]]), kl_coef=0.5)
    assert out.tolist()[0] == pytest.approx([-0.05, 1.9, 0.0])


def test_group_and_leave_one_out_advantages_by_hand():
    scores = t([1, 0, 0, 0, 2, 2, 2, 2])
    # group 1: mean 0.25, sample std sqrt((0.75^2 + 3 * 0.25^2) / 3) = 0.5 -> 1.5, -0.5 x3; group 2 is flat -> 0
    assert group_advantages(scores, 4, eps=1e-12).tolist() == pytest.approx([1.5, -0.5, -0.5, -0.5, 0, 0, 0, 0])
    assert group_advantages(scores, 4, scale=False).tolist()[:4] == pytest.approx([0.75, -0.25, -0.25, -0.25])
    # leave one out: sample 0 against (0+0+0)/3 = 0 -> 1; the others against 1/3 -> -1/3
    assert rloo_advantages(scores, 4).tolist() == pytest.approx([1, -1 / 3, -1 / 3, -1 / 3, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="at least 2"):
        rloo_advantages(scores, 1)


def test_masked_mean_and_adaptive_kl():
    assert masked_mean(t([[1, 3, 100]]), t([[1, 1, 0]])).item() == 2.0
    assert masked_mean(t([[5.0]]), t([[0]])).item() == 0.0
    # KL 12 against target 6: error clipped to 0.2; K = 1000 / 10000 -> beta 0.1 * (1 + 0.02) = 0.102
    controller = AdaptiveKLController(0.1, target=6.0, horizon=10000)
    assert controller.update(12.0, 1000) == pytest.approx(0.102)
    assert AdaptiveKLController(0.1).update(50.0, 1000) == 0.1  # fixed
