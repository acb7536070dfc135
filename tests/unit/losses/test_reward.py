"""Reward losses against hand-computed numbers and against TRL's RewardTrainer loss on the same tensors."""

from __future__ import annotations

import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from alignlab.losses.reward import (
    bradley_terry_loss,
    bradley_terry_losses,
    combined_reward,
    multi_attribute_loss,
)


def nll(x: float) -> float:
    """-log sigmoid(x), by hand."""
    return math.log(1 + math.exp(-x))


CHOSEN = torch.tensor([2.0, 0.5, -1.0])
REJECTED = torch.tensor([1.0, 1.5, -3.0])


def test_bradley_terry_hand_computed():
    # differences 1, -1, 2
    expected = (nll(1.0) + nll(-1.0) + nll(2.0)) / 3
    assert bradley_terry_loss(CHOSEN, REJECTED).item() == pytest.approx(expected, rel=1e-6)


def test_margin_shifts_the_difference():
    margin = torch.tensor([0.5, 0.0, 3.0])
    expected = [nll(0.5), nll(-1.0), nll(-1.0)]
    assert bradley_terry_losses(CHOSEN, REJECTED, margin).tolist() == pytest.approx(expected, rel=1e-6)


def test_weights_scale_each_pair_and_divide_by_batch_size():
    weight = torch.tensor([1.0, 0.0, 0.5])
    expected = (nll(1.0) * 1.0 + 0.0 + nll(2.0) * 0.5) / 3
    assert bradley_terry_loss(CHOSEN, REJECTED, weight=weight).item() == pytest.approx(expected, rel=1e-6)
    ones = torch.ones(3)
    assert bradley_terry_loss(CHOSEN, REJECTED, weight=ones).item() == pytest.approx(
        bradley_terry_loss(CHOSEN, REJECTED).item())


def test_centring_adds_mean_squared_sum():
    # sums 3, 2, -4 -> squares 9, 4, 16 -> mean 29/3
    plain = bradley_terry_loss(CHOSEN, REJECTED).item()
    centred = bradley_terry_loss(CHOSEN, REJECTED, center_coefficient=0.01).item()
    assert centred - plain == pytest.approx(0.01 * 29 / 3, rel=1e-5)


def _trl_loss(chosen: torch.Tensor, rejected: torch.Tensor, margin: torch.Tensor | None,
              center: float | None) -> float:
    """TRL's RewardTrainer.compute_loss on the same rewards (the trainer state stubbed out)."""
    from trl import RewardTrainer

    logits = torch.cat([chosen, rejected]).unsqueeze(-1)  # (2B, 1): chosen first, as TRL's collator builds
    identity = lambda value: value  # noqa: E731
    stub = SimpleNamespace(
        model=SimpleNamespace(training=False), args=SimpleNamespace(center_rewards_coefficient=center),
        accelerator=SimpleNamespace(gather_for_metrics=identity, gather=identity),
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)}, _total_train_tokens=0, _tp_size=1)
    inputs = {"input_ids": torch.zeros(2 * len(chosen), 3, dtype=torch.long)}
    if margin is not None:
        inputs["margin"] = margin
    model = lambda **_: SimpleNamespace(logits=logits)  # noqa: E731
    return RewardTrainer.compute_loss(stub, model, inputs).item()


@pytest.mark.parametrize(("margin", "center"), [(None, None), (torch.tensor([0.5, 0.0, 3.0]), None),
                                                (None, 0.01), (torch.tensor([1.0, 2.0, 0.0]), 0.05)])
def test_matches_trl_reward_trainer(margin, center):
    ours = bradley_terry_loss(CHOSEN, REJECTED, margin=margin, center_coefficient=center).item()
    assert ours == pytest.approx(_trl_loss(CHOSEN, REJECTED, margin, center), rel=1e-6)


def test_multi_attribute_mse_plus_bt_on_weighted_sum():
    predicted = torch.tensor([[0.5, -0.5], [0.0, 1.0]])  # (N=2, A=2)
    target = torch.tensor([[1.0, -1.0], [0.0, 0.0]])
    weights = torch.tensor([0.75, 0.25])
    mse = (0.25 + 0.25 + 0.0 + 1.0) / 4
    scores = [0.75 * 0.5 - 0.25 * 0.5, 0.25]  # 0.25, 0.25
    loss, parts = multi_attribute_loss(predicted, target, weights, torch.tensor([1]), torch.tensor([0]),
                                       bt_coefficient=2.0)
    assert combined_reward(predicted, weights).tolist() == pytest.approx(scores)
    assert parts["mse"].item() == pytest.approx(mse)
    assert parts["bt"].item() == pytest.approx(nll(0.0))
    assert loss.item() == pytest.approx(mse + 2.0 * nll(0.0))
    no_pairs, parts = multi_attribute_loss(predicted, target, weights, torch.tensor([], dtype=torch.long),
                                           torch.tensor([], dtype=torch.long), bt_coefficient=2.0)
    assert no_pairs.item() == pytest.approx(mse) and parts["bt"].item() == 0.0


def test_gradients_flow_and_push_rewards_apart():
    chosen = torch.zeros(4, requires_grad=True)
    rejected = torch.zeros(4, requires_grad=True)
    bradley_terry_loss(chosen, rejected).backward()
    assert (chosen.grad < 0).all() and (rejected.grad > 0).all()  # descent raises chosen, lowers rejected

