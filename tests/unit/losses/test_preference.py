"""DPO family, SimPO and ORPO: hand-computed numbers, and equality with TRL 1.16 on the same tensors.

TRL keeps its DPO loss inside `DPOTrainer._compute_loss`; the parity tests call that method on a stand-in
trainer whose "model" returns fixed per-token log-probs, so both sides see exactly the same numbers.
"""

from __future__ import annotations

import math
import types
from collections import defaultdict

import pytest
import torch

from alignlab.losses.preference import (
    DPO_LOSSES,
    dpo_loss,
    loss_type_names,
    orpo_loss,
    preference_loss,
    simpo_loss,
)

LOG_SIGMOID_1 = math.log1p(math.exp(-1.0))  # -log sigma(1) = 0.313261687...


def _hand_pair(**kwargs):
    # pi_c=-1, pi_r=-3, ref both -2: chosen log-ratio +1, rejected -1, h = 2.
    t = torch.tensor
    return dpo_loss(t([-1.0]), t([-3.0]), t([-2.0]), t([-2.0]), **kwargs)


def test_sigmoid_hand_computed():
    out = _hand_pair(beta=0.5)
    assert out.losses.item() == pytest.approx(LOG_SIGMOID_1, abs=1e-7)
    assert out.chosen_rewards.item() == pytest.approx(0.5)
    assert out.rejected_rewards.item() == pytest.approx(-0.5)
    assert not out.chosen_rewards.requires_grad


def test_cdpo_and_robust_hand_computed():
    # beta h = 1, e = 0.1: cDPO = 0.9 * 0.3133 + 0.1 * 1.3133; robust = (0.9 * 0.3133 - 0.1 * 1.3133) / 0.8
    cdpo = _hand_pair(beta=0.5, label_smoothing=0.1).losses.item()
    robust = _hand_pair(beta=0.5, loss_type="robust", label_smoothing=0.1).losses.item()
    assert cdpo == pytest.approx(0.9 * LOG_SIGMOID_1 + 0.1 * (1 + LOG_SIGMOID_1), abs=1e-7)
    assert robust == pytest.approx((0.9 * LOG_SIGMOID_1 - 0.1 * (1 + LOG_SIGMOID_1)) / 0.8, abs=1e-7)


def test_ipo_hinge_sppo_hand_computed():
    lengths = {"chosen_lengths": torch.tensor([2.0]), "rejected_lengths": torch.tensor([4.0])}
    # IPO: per-token h = 1/2 - (-1)/4 = 0.75, 1/(2 beta) = 1 -> (0.75 - 1)^2
    assert _hand_pair(beta=0.5, loss_type="ipo", **lengths).losses.item() == pytest.approx(0.0625)
    assert _hand_pair(beta=0.25, loss_type="hinge").losses.item() == pytest.approx(0.5)  # 1 - 0.25 * 2
    assert _hand_pair(beta=1.0, loss_type="sppo_hard").losses.item() == pytest.approx(0.5)  # 0.5^2 + 0.5^2


def test_combination_is_the_weighted_sum():
    lengths = {"chosen_lengths": torch.tensor([2.0]), "rejected_lengths": torch.tensor([4.0])}
    rpo = _hand_pair(beta=0.5, loss_type=["sigmoid", "sft"], loss_weights=[1.0, 0.2], **lengths).losses.item()
    assert rpo == pytest.approx(LOG_SIGMOID_1 + 0.2 * (1.0 / 2.0), abs=1e-7)  # sft: -(-1) / 2 tokens


def test_per_pair_label_smoothing():
    t = torch.tensor
    out = dpo_loss(t([-1.0, -1.0]), t([-3.0, -3.0]), t([-2.0, -2.0]), t([-2.0, -2.0]), beta=0.5,
                   label_smoothing=t([0.0, 0.1]))
    assert out.losses[0].item() == pytest.approx(LOG_SIGMOID_1, abs=1e-7)
    assert out.losses[1].item() == pytest.approx(0.9 * LOG_SIGMOID_1 + 0.1 * (1 + LOG_SIGMOID_1), abs=1e-7)


def test_simpo_and_orpo_hand_computed():
    t = torch.tensor
    # SimPO: beta (avg_c - avg_r) - gamma = 2 * 1 - 1 = 1
    assert simpo_loss(t([-1.0]), t([-2.0]), beta=2.0, gamma=1.0).losses.item() == pytest.approx(LOG_SIGMOID_1)
    # ORPO: p_c = 0.5 (odds 1), p_r = 0.25 (odds 1/3): log odds ratio log 3, -log sigma(log 3) = -log 0.75
    out = orpo_loss(t([math.log(0.5)]), t([math.log(0.25)]), beta=0.1)
    assert out.losses.item() == pytest.approx(-math.log(0.5) - 0.1 * math.log(0.75), abs=1e-6)


def test_reference_free_dispatch_averages_per_token():
    t = torch.tensor
    out = preference_loss(t([-2.0]), t([-8.0]), None, None, t([2]), t([4]), loss_type=["simpo"], beta=2.0,
                          simpo_gamma=1.0)
    assert out.losses.item() == pytest.approx(LOG_SIGMOID_1)  # averages -1 and -2, as above
    with pytest.raises(ValueError, match="reference"):
        preference_loss(t([-2.0]), t([-8.0]), None, None, t([2]), t([4]), loss_type=["sigmoid"], beta=0.1)


def test_registry_lists_the_variants():
    names = loss_type_names()
    for name in ("sigmoid", "ipo", "robust", "hinge", "sppo_hard", "apo_zero", "apo_down", "nca_pair", "sft",
                 "simpo", "orpo"):
        assert name in names


# -- parity with TRL ---------------------------------------------------------------------------------------


def _identity(x):
    return x


def _fake_dpo_trainer(loss_types, loss_weights, beta, label_smoothing):
    accelerator = types.SimpleNamespace(device=torch.device("cpu"), gather_for_metrics=_identity, gather=_identity)
    return types.SimpleNamespace(
        model=types.SimpleNamespace(training=True), accelerator=accelerator, aux_loss_enabled=False, ld_alpha=None,
        precompute_ref_logps=True, f_divergence_type="reverse_kl", loss_types=loss_types,
        loss_weights=loss_weights, beta=beta, label_smoothing=label_smoothing, use_weighting=False,
        args=types.SimpleNamespace(discopop_tau=0.05), _metrics={"train": defaultdict(list)},
        _total_train_tokens=0, _tp_size=1,
    )


def _batch(pairs=4, width=9, seed=0):
    """Right-padded [chosen..., rejected...] batch with varied prompt and response lengths."""
    gen = torch.Generator().manual_seed(seed)
    completion_mask = torch.zeros(2 * pairs, width, dtype=torch.long)
    attention_mask = torch.zeros(2 * pairs, width, dtype=torch.long)
    for row in range(2 * pairs):
        prompt = int(torch.randint(1, 3, (1,), generator=gen))
        end = int(torch.randint(prompt + 1, width + 1, (1,), generator=gen))
        completion_mask[row, prompt:end] = 1
        attention_mask[row, :end] = 1
    per_token = -torch.rand(2 * pairs, width - 1, generator=gen, dtype=torch.float64) * 3
    per_token = per_token * completion_mask[:, 1:]
    inputs = {"input_ids": torch.randint(3, 50, (2 * pairs, width), generator=gen),
              "attention_mask": attention_mask, "completion_mask": completion_mask}
    ref = -torch.rand(2 * pairs, generator=gen, dtype=torch.float64) * 20
    inputs["ref_chosen_logps"], inputs["ref_rejected_logps"] = ref.chunk(2)
    return inputs, per_token


def _trl_dpo(inputs, per_token, loss_types, loss_weights, beta, label_smoothing):
    from trl import DPOTrainer

    fake = _fake_dpo_trainer(loss_types, loss_weights, beta, label_smoothing)

    def model(**kwargs):
        return types.SimpleNamespace(log_probs=per_token, entropy=torch.zeros_like(per_token),
                                     mean_logits=torch.zeros_like(per_token),
                                     is_top1=torch.zeros_like(per_token, dtype=torch.bool))

    return DPOTrainer._compute_loss(fake, model, inputs, False)


def _ours(inputs, per_token, loss_types, loss_weights, beta, label_smoothing):
    logps = per_token.sum(-1)
    lengths = inputs["completion_mask"][:, 1:].sum(-1).to(logps.dtype)
    chosen, rejected = logps.chunk(2)
    chosen_lengths, rejected_lengths = lengths.chunk(2)
    out = dpo_loss(chosen, rejected, inputs["ref_chosen_logps"], inputs["ref_rejected_logps"], beta=beta,
                   loss_type=loss_types, loss_weights=loss_weights, label_smoothing=label_smoothing,
                   chosen_lengths=chosen_lengths, rejected_lengths=rejected_lengths)
    return out.losses.mean()


PARITY = [name for name in DPO_LOSSES.names() if name != "sigmoid"]


@pytest.mark.parametrize("loss_type", ["sigmoid", *PARITY])
def test_matches_trl_dpo_trainer(loss_type):
    inputs, per_token = _batch()
    smoothing = 0.1 if DPO_LOSSES.get(loss_type).uses_label_smoothing and loss_type != "sigmoid" else 0.0
    beta = 0.3
    expected = _trl_dpo(inputs, per_token, [loss_type], [1.0], beta, smoothing)
    got = _ours(inputs, per_token, [loss_type], None, beta, smoothing)
    assert got.item() == pytest.approx(expected.item(), abs=1e-6, rel=1e-6)


def test_matches_trl_multi_loss_mpo():
    inputs, per_token = _batch(seed=1)
    names, weights = ["sigmoid", "bco_pair", "sft"], [0.8, 0.2, 1.0]
    expected = _trl_dpo(inputs, per_token, names, weights, 0.1, 0.0)
    assert _ours(inputs, per_token, names, weights, 0.1, 0.0).item() == pytest.approx(expected.item(), abs=1e-6)


def test_simpo_matches_trl_cpo_trainer():
    from trl.experimental.cpo import CPOTrainer

    gen = torch.Generator().manual_seed(2)
    chosen, rejected = -torch.rand(6, generator=gen) * 3, -torch.rand(6, generator=gen) * 3
    fake = types.SimpleNamespace(alpha=0.0, loss_type="simpo", simpo_gamma=0.7, beta=2.0, label_smoothing=0.1,
                                 accelerator=types.SimpleNamespace(device=torch.device("cpu")))
    losses, chosen_rewards, rejected_rewards = CPOTrainer.cpo_loss(fake, chosen, rejected)
    out = simpo_loss(chosen, rejected, beta=2.0, gamma=0.7, label_smoothing=0.1)
    torch.testing.assert_close(out.losses, losses, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(out.chosen_rewards, chosen_rewards)
    torch.testing.assert_close(out.rejected_rewards, rejected_rewards)


def test_orpo_odds_ratio_term_matches_trl_orpo_trainer():
    from trl.experimental.orpo import ORPOTrainer

    gen = torch.Generator().manual_seed(3)
    chosen, rejected = -torch.rand(6, generator=gen) * 2 - 0.01, -torch.rand(6, generator=gen) * 2 - 0.01
    fake = types.SimpleNamespace(beta=0.25, accelerator=types.SimpleNamespace(device=torch.device("cpu")))
    trl_losses, *_ = ORPOTrainer.odds_ratio_loss(fake, chosen, rejected)  # beta * log sigma(log odds ratio)
    out = orpo_loss(chosen, rejected, beta=0.25)
    torch.testing.assert_close(out.losses + chosen, -trl_losses, atol=1e-6, rtol=1e-6)


# -- agreement-aware training: the gradient changes as intended --------------------------------------------


def _grad_wrt_policy(weight=None, label_smoothing=0.0, h=0.0):
    policy_chosen = torch.tensor([h, h], requires_grad=True)
    zeros = torch.zeros(2)
    out = dpo_loss(policy_chosen, zeros, zeros, zeros, beta=1.0, label_smoothing=label_smoothing)
    losses = out.losses * weight if weight is not None else out.losses
    losses.sum().backward()
    return policy_chosen.grad


def test_loss_weight_scales_each_pairs_gradient():
    base = _grad_wrt_policy(h=0.3)
    weighted = _grad_wrt_policy(weight=torch.tensor([1.0, 0.25]), h=0.3)
    torch.testing.assert_close(weighted, base * torch.tensor([1.0, 0.25]))


def test_agreement_label_smoothing_shrinks_the_push_and_stops_it_at_a_split_vote():
    # e = 1 - agreement: unanimous (e=0) vs 3-of-4 (e=0.25) vs a split vote (e=0.5), at the start (h = 0).
    grad = _grad_wrt_policy(label_smoothing=torch.tensor([0.0, 0.25]), h=0.0)
    assert grad[1].item() == pytest.approx(0.5 * grad[0].item())  # (1 - 2e) = 2a - 1 = w
    split = _grad_wrt_policy(label_smoothing=torch.tensor([0.5, 0.5]), h=0.0)
    assert torch.all(split == 0)
    # Past the data's own confidence, cDPO pulls back: with e = 0.25 the optimum is sigma(beta h) = 0.75.
    beyond = _grad_wrt_policy(label_smoothing=torch.tensor([0.25, 0.25]), h=math.log(3.0) + 0.5)
    assert torch.all(beyond > 0)  # descent lowers h (gradient of the loss w.r.t. the chosen log-prob is positive)
