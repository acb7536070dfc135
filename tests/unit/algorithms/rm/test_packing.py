"""Shared-prompt packing: the row layout, the mask and positions, and rewards and gradients equal to the
unpacked computation."""

from __future__ import annotations

import pytest
import torch

from alignlab.backends.train.reward import (
    PairwiseCollator,
    SharedPromptCollator,
    pair_rewards,
    split_classifier,
)
from alignlab.errors import ConfigError
from alignlab.models.reward import load_for_training, shared_prefix_length


def test_shared_prefix_leaves_each_side_its_last_token():
    assert shared_prefix_length([0, 5, 6, 7], [0, 5, 6, 9, 9]) == 3
    assert shared_prefix_length([0, 5, 6], [0, 5, 6, 7]) == 2  # chosen would be empty otherwise
    assert shared_prefix_length([1], [2, 3]) == 0


def test_row_layout_mask_and_positions():
    batch = SharedPromptCollator(pad_token_id=9)([{"chosen_ids": [0, 5, 6, 7], "rejected_ids": [0, 5, 8]},
                                                   {"chosen_ids": [0, 3], "rejected_ids": [1, 2]}])
    assert batch["input_ids"].tolist() == [[0, 5, 6, 7, 8], [0, 3, 1, 2, 9]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 3, 2], [0, 1, 0, 1, 0]]
    assert batch["chosen_end"].tolist() == [3, 1] and batch["rejected_end"].tolist() == [4, 3]
    assert batch["chosen_row"].tolist() == batch["rejected_row"].tolist() == [0, 1]  # even lengths: one per row
    assert batch["num_tokens"].item() == 11  # as unpacked: 4 + 3 + 2 + 2
    mask = batch["attention_mask"][0, 0].int().tolist()
    assert mask[4] == [1, 1, 0, 0, 1]  # rejected token 8 sees the prefix (0, 5) and itself, not 6, 7
    assert mask[3] == [1, 1, 1, 1, 0]  # chosen is plain causal
    padding = batch["attention_mask"][1, 0].int().tolist()
    assert padding[2] == [0, 0, 1, 0, 0] and padding[4] == [0, 0, 0, 0, 1]  # no shared prefix; pad sees itself


def test_packed_rewards_and_gradients_equal_unpacked(tiny, tokenizer):
    torch.manual_seed(0)
    model = load_for_training(str(tiny.policy_dir), num_labels=1, seed=0, pad_token_id=tokenizer.pad_token_id)
    prompt = [0, *torch.randint(10, 500, (12,)).tolist()]
    examples = [{"chosen_ids": prompt + torch.randint(10, 500, (n,)).tolist() + [1],
                 "rejected_ids": prompt + torch.randint(10, 500, (m,)).tolist() + [1]} for n, m in ((5, 9), (2, 1))]
    examples.append({"chosen_ids": [0, 7, 8, 1], "rejected_ids": [0, 9, 9, 9, 9, 9, 1]})  # nothing but bos shared
    results = []
    for collator in (PairwiseCollator(tokenizer.pad_token_id), SharedPromptCollator(tokenizer.pad_token_id)):
        model.zero_grad()
        chosen, rejected = pair_rewards(model, collator(examples))
        (chosen - rejected).sum().backward()
        query = model.model.layers[0].self_attn.q_proj.weight.grad  # the backbone's gradient too
        results.append((chosen.detach(), rejected.detach(), model.score.weight.grad.clone(), query.clone()))
    (c1, r1, g1, q1), (c2, r2, g2, q2) = results
    assert torch.allclose(c1, c2, atol=1e-5) and torch.allclose(r1, r2, atol=1e-5)
    assert torch.isfinite(g2).all() and torch.allclose(g1, g2, atol=1e-4)
    assert torch.isfinite(q2).all() and torch.allclose(q1, q2, atol=1e-4)


def test_pairs_of_skewed_lengths_pack_several_to_a_row_with_equal_rewards_and_gradients(tiny, tokenizer):
    """Two long pairs and four short ones: the short units ride behind each other in rows of the longest's
    width (fewer token positions), rewards and gradients equal the unpacked pairwise batch."""
    torch.manual_seed(1)
    model = load_for_training(str(tiny.policy_dir), num_labels=1, seed=0, pad_token_id=tokenizer.pad_token_id)

    def pair(prompt, chosen, rejected):
        head = [0, *torch.randint(10, 500, (prompt,)).tolist()]
        return {"chosen_ids": head + torch.randint(10, 500, (chosen,)).tolist() + [1],
                "rejected_ids": head + torch.randint(10, 500, (rejected,)).tolist() + [1]}

    examples = [pair(20, 8, 6), pair(18, 9, 7), pair(3, 2, 2), pair(4, 3, 1), pair(2, 4, 3), pair(5, 1, 2)]
    batch = SharedPromptCollator(tokenizer.pad_token_id)(examples)
    assert batch["input_ids"].shape[0] < len(examples)  # several pairs to a row
    assert len(set(batch["chosen_row"].tolist())) == batch["input_ids"].shape[0]
    results = []
    for collated in (PairwiseCollator(tokenizer.pad_token_id)(examples), batch):
        model.zero_grad()
        chosen, rejected = pair_rewards(model, collated)
        (chosen - 0.5 * rejected).sum().backward()
        query = model.model.layers[0].self_attn.q_proj.weight.grad
        results.append((chosen.detach(), rejected.detach(), query.clone()))
    (c1, r1, q1), (c2, r2, q2) = results
    torch.testing.assert_close(c2, c1, atol=1e-5, rtol=0)
    torch.testing.assert_close(r2, r1, atol=1e-5, rtol=0)
    torch.testing.assert_close(q2, q1, atol=1e-4, rtol=1e-4)


def test_a_model_without_a_score_head_is_refused():
    with pytest.raises(ConfigError, match="rm.batching: shared_prompt needs a decoder sequence classifier"):
        split_classifier(torch.nn.Linear(2, 2))
