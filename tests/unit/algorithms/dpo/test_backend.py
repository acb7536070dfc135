"""The trainer adapters' building blocks: sequence log-probs, the reference pass, collators, example weights."""

from __future__ import annotations

import types
from collections import defaultdict

import pytest
import torch

from alignlab.backends.train.preference import (
    AlignlabDPOTrainer,
    PreferenceCollator,
    PreferenceObjective,
    UnpairedCollator,
    grouped_sequence_logps,
    length_groups,
    pad_right,
    patch_log_prob_head,
    reference_logps,
    sequence_logps,
)
from alignlab.losses.preference import dpo_loss


@pytest.fixture(scope="module")
def model(policy):
    from alignlab.models import load_causal_lm

    return load_causal_lm(policy)


def _manual_logps(model, prompt, completion):
    ids = torch.tensor([prompt + completion])
    with torch.no_grad():
        logits = model(input_ids=ids, fused_lm_head=False).logits[0, :-1]
    logps = torch.log_softmax(logits.float(), -1).gather(-1, ids[0, 1:, None])[:, 0]
    return logps[len(prompt) - 1:].sum().item()


def test_reference_pass_matches_a_plain_forward_in_any_order(model):
    prompts = [[0, 5, 6], [0, 7], [0, 8, 9, 10]]
    completions = [[11, 12, 1], [13, 1], [14, 15, 16, 17, 1]]
    got = reference_logps(model, prompts, completions, pad_id=2, batch_size=2)
    expected = [_manual_logps(model, p, c) for p, c in zip(prompts, completions, strict=True)]
    assert got.tolist() == pytest.approx(expected, abs=1e-4)
    ids, attention, completion = pad_right(prompts, completions, pad_id=2)
    assert ids.shape == (3, 9) and completion.sum().item() == 3 + 2 + 5 and attention[1].sum().item() == 4


def test_sequence_logps_counts_completion_tokens(model):
    patch_log_prob_head(model)
    ids, attention, completion = pad_right([[0, 5], [0, 6, 7]], [[8, 1], [9, 10, 1]], pad_id=2)
    logps, lengths = sequence_logps(model, ids, attention, completion)
    assert lengths.tolist() == [2, 3] and (logps < 0).all()


def test_collators_carry_example_weights():
    pairs = [{"prompt_ids": [0, 5], "chosen_ids": [6, 1], "rejected_ids": [7, 1], "weight": 0.5,
              "label_smoothing": 0.25, "length": 4}] * 2
    batch = PreferenceCollator(pad_token_id=2)(pairs)
    assert batch["weight"].tolist() == [0.5, 0.5] and batch["label_smoothing"].tolist() == [0.25, 0.25]
    assert batch["input_ids"].shape[0] == 4  # chosen then rejected
    unpaired = [{"prompt_ids": [0, 5], "completion_ids": [6, 1], "label": True, "weight": 2.0}]
    assert UnpairedCollator(pad_token_id=2)(unpaired)["weight"].tolist() == [2.0]


def test_dpo_trainer_loss_is_the_weighted_mean_of_pair_losses(model):
    """`AlignlabDPOTrainer._compute_loss` on a stand-in trainer: loss = mean_i(w_i * loss_i)."""
    patch_log_prob_head(model)
    pairs = [{"prompt_ids": [0, 5, 6], "chosen_ids": [7, 8, 1], "rejected_ids": [9, 1]},
             {"prompt_ids": [0, 10], "chosen_ids": [11, 1], "rejected_ids": [12, 13, 14, 1]}]
    batch = PreferenceCollator(pad_token_id=2)(pairs)
    batch["ref_chosen_logps"] = torch.tensor([-9.0, -6.0])
    batch["ref_rejected_logps"] = torch.tensor([-5.0, -12.0])
    accelerator = types.SimpleNamespace(gather_for_metrics=lambda x: x)  # one process
    fake = types.SimpleNamespace(model=types.SimpleNamespace(training=True), accelerator=accelerator,
                                 objective=PreferenceObjective(beta=0.5), _metrics={"train": defaultdict(list)},
                                 _choice_log=None)
    for name in ("_pairs", "_reference", "_record", "_gather", "_append", "_count_tokens"):
        setattr(fake, name, types.MethodType(getattr(AlignlabDPOTrainer, name), fake))
    unweighted = AlignlabDPOTrainer._compute_loss(fake, model, batch, False)
    weighted = AlignlabDPOTrainer._compute_loss(fake, model, {**batch, "weight": torch.tensor([1.0, 0.0])}, False)
    logps, _ = sequence_logps(model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    chosen, rejected = logps.chunk(2)
    losses = dpo_loss(chosen, rejected, batch["ref_chosen_logps"], batch["ref_rejected_logps"], beta=0.5).losses
    assert unweighted.item() == pytest.approx(losses.mean().item(), abs=1e-6)
    assert weighted.item() == pytest.approx(losses[0].item() / 2, abs=1e-6)  # the second pair counts for nothing
    assert fake._metrics["train"]["weight"] == [1.0, 0.0]  # per example; TRL's log takes their mean
    assert fake._metrics["train"]["rewards/accuracies"]


def test_length_groups_pay_only_when_padding_is_saved():
    assert length_groups([10, 10, 10, 10, 10, 10, 10, 10]) == [[0, 1, 2, 3, 4, 5, 6, 7]]
    groups = length_groups([200, 20, 190, 25, 210, 30, 205, 22])
    assert groups == [[1, 7, 3, 5], [2, 0, 6, 4]]


def test_grouped_log_probs_equal_one_padded_batch(model):
    patch_log_prob_head(model)
    prompts = [[0, 5], [0, 6, 7], [0, 8], [0, 9, 10, 11], [0, 12], [0, 13], [0, 14], [0, 15]]
    completions = [[16, 1], list(range(20, 60)) + [1], [17, 1], list(range(60, 95)) + [1], [18, 19, 1], [21, 1],
                   list(range(100, 130)) + [1], [22, 23, 1]]
    batch = pad_right(prompts, completions, pad_id=2)
    assert len(length_groups(batch[1].sum(-1).tolist())) == 2
    grouped, grouped_lengths = grouped_sequence_logps(model, *batch)
    whole, whole_lengths = sequence_logps(model, *batch)
    torch.testing.assert_close(grouped, whole, atol=1e-4, rtol=1e-5)
    assert grouped_lengths.tolist() == whole_lengths.tolist()
