"""KTO: hand-computed numbers, and equality with TRL 1.16's KTOTrainer loss on the same tensors."""

from __future__ import annotations

import math
import types
from collections import defaultdict

import pytest
import torch

from alignlab.losses.kto import kto_kl_estimate, kto_loss


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_hand_computed_kto():
    t = torch.tensor
    # r = +0.5 desirable, r = -0.5 undesirable, beta 1, z0 0.2
    out = kto_loss(t([0.5, -0.5]), t([0.0, 0.0]), t([True, False]), kl=0.2, beta=1.0, desirable_weight=2.0,
                   undesirable_weight=0.5)
    assert out.losses[0].item() == pytest.approx(2.0 * (1 - _sigmoid(0.3)), abs=1e-7)
    assert out.losses[1].item() == pytest.approx(0.5 * (1 - _sigmoid(0.7)), abs=1e-7)
    torch.testing.assert_close(out.rewards, t([0.5, -0.5]))


def test_hand_computed_apo_zero_unpaired_ignores_kl():
    t = torch.tensor
    out = kto_loss(t([0.5, -0.5]), t([0.0, 0.0]), t([True, False]), kl=10.0, beta=2.0, loss_type="apo_zero_unpaired")
    assert out.losses[0].item() == pytest.approx(1 - _sigmoid(1.0), abs=1e-7)
    assert out.losses[1].item() == pytest.approx(_sigmoid(-1.0), abs=1e-7)


def test_kl_estimate_is_clamped_and_detached():
    policy = torch.tensor([-1.0, -2.0], requires_grad=True)
    assert kto_kl_estimate(policy, torch.tensor([0.0, 0.0])).item() == 0.0
    z0 = kto_kl_estimate(policy, torch.tensor([-3.0, -3.0]))
    assert z0.item() == pytest.approx(1.5) and not z0.requires_grad


def _identity(x):
    return x


def _trl_kto_loss(inputs, per_token, kl_per_token, loss_type, beta, desirable_weight, undesirable_weight):
    from trl import KTOTrainer

    accelerator = types.SimpleNamespace(device=torch.device("cpu"), gather_for_metrics=_identity, gather=_identity)
    fake = types.SimpleNamespace(
        model=types.SimpleNamespace(training=True), accelerator=accelerator, aux_loss_enabled=False,
        precompute_ref_logps=True, calculate_KL=loss_type == "kto", loss_type=loss_type, beta=beta,
        desirable_weight=desirable_weight, undesirable_weight=undesirable_weight,
        _metrics={"train": defaultdict(list)}, _total_train_tokens=0, _tp_size=1,
    )
    fake._compute_kl_logps = types.MethodType(KTOTrainer._compute_kl_logps, fake)

    def model(input_ids, **kwargs):
        values = kl_per_token if input_ids is inputs["KL_input_ids"] else per_token
        zeros = torch.zeros_like(values)
        return types.SimpleNamespace(log_probs=values, entropy=zeros, mean_logits=zeros)

    return KTOTrainer._compute_loss(fake, model, inputs, False)


def _batch(n=6, width=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = {}
    per_token = {}
    for prefix in ("", "KL_"):
        completion = torch.zeros(n, width, dtype=torch.long)
        for row in range(n):
            completion[row, 2:int(torch.randint(3, width + 1, (1,), generator=gen))] = 1
        inputs[f"{prefix}input_ids"] = torch.randint(3, 40, (n, width), generator=gen)
        inputs[f"{prefix}attention_mask"] = torch.ones(n, width, dtype=torch.long)
        inputs[f"{prefix}completion_mask"] = completion
        per_token[prefix] = -torch.rand(n, width - 1, generator=gen, dtype=torch.float64) * 2 * completion[:, 1:]
    inputs["label"] = torch.tensor([True, False, True, True, False, False][:n])
    inputs["ref_logps"] = -torch.rand(n, generator=gen, dtype=torch.float64) * 6
    inputs["ref_KL_logps"] = -torch.rand(n, generator=gen, dtype=torch.float64) * 12  # z0 > 0 in this batch
    return inputs, per_token[""], per_token["KL_"]


@pytest.mark.parametrize("loss_type", ["kto", "apo_zero_unpaired"])
def test_matches_trl_kto_trainer(loss_type):
    inputs, per_token, kl_per_token = _batch()
    expected = _trl_kto_loss(inputs, per_token, kl_per_token, loss_type, 0.5, 1.3, 0.7)
    kl = kto_kl_estimate(kl_per_token.sum(-1), inputs["ref_KL_logps"]) if loss_type == "kto" else 0.0
    if loss_type == "kto":
        assert kl.item() > 0  # the reference point is exercised, not clamped away
    out = kto_loss(per_token.sum(-1), inputs["ref_logps"], inputs["label"], kl=kl, beta=0.5,
                   desirable_weight=1.3, undesirable_weight=0.7, loss_type=loss_type)
    assert out.losses.mean().item() == pytest.approx(expected.item(), abs=1e-6, rel=1e-6)
