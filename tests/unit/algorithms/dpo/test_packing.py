"""Packed rows (several sequences or prompt-shared pairs to a row, block-diagonal attention) equal plain padded
forwards: DPO's chosen/rejected rows, its prompt-shared rows, KTO's completions and KL term, and gradients; the
layout; and the cost rule that picks packing over length-grouped padding."""

from __future__ import annotations

import logging

import pytest
import torch

from alignlab.backends.train.preference import (
    grouped_sequence_logps,
    grouped_shared_logps,
    pad_right,
    sequence_logps,
)
from alignlab.backends.train.prefix_sharing import Pairs, pack_shared, shared_logps
from alignlab.models.packing import Unit, pack_units, packed_positions, packing_pays, place
from tests.unit.algorithms.dpo.conftest import SUMS


@pytest.fixture(scope="module")
def model(logprob_model):
    return logprob_model


@pytest.fixture(autouse=True)
def fresh_choice_log():
    """The packing choice is logged when it changes: each test starts as a new run would."""
    from alignlab.backends.train import preference

    preference._PACK_LOG.last.clear()


def _sequences(lengths, seed=0):
    generator = torch.Generator().manual_seed(seed)
    prompts = [[0, *torch.randint(5, 64, (n // 2,), generator=generator).tolist()] for n in lengths]
    completions = [torch.randint(5, 64, (n - n // 2,), generator=generator).tolist() + [1] for n in lengths]
    return prompts, completions


def _padded(model, prompts, completions):
    ids, attention, completion = pad_right(prompts, completions, pad_id=2)
    return sequence_logps(model, ids, attention, completion)


# Two long rows and four short ones: length groups need 4 rows a group, so one padded group runs 6 x 31
# positions; packed, the short ones pair up behind each other (4 rows x 31).
SKEWED = [30, 30, 10, 12, 18, 20]


def test_place_is_first_fit_decreasing_and_keeps_overlong_units_alone():
    assert place([5, 3, 4, 2], 7) == [[0, 3], [2, 1]]
    assert place([9, 2], 7) == [[0], [1]]
    assert place([5, 3], None) == [[0], [1]]
    assert packed_positions([5, 3, 4, 2], 7) == 2 * 7
    assert packed_positions([5, 3, 4, 2]) == 3 * 5  # up to the longest unit: [5], [4], [3, 2]


def test_layout_mask_positions_and_padding():
    packed = pack_units([Unit([7, 8, 9], [0, 1, 2]), Unit([5, 6], [0, 1]), Unit([4], [0])], pad_id=3, capacity=3)
    assert packed.places == [(0, 0), (1, 0), (1, 2)]
    assert packed.input_ids.tolist() == [[7, 8, 9], [5, 6, 4]]
    assert packed.position_ids.tolist() == [[0, 1, 2], [0, 1, 0]]
    assert packed.attention_mask[1, 0].int().tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]  # 4 never sees 5, 6
    padded = pack_units([Unit([7, 8, 9], [0, 1, 2]), Unit([5], [0])], pad_id=3)
    assert padded.input_ids[1].tolist() == [5, 3, 3]
    assert padded.attention_mask[1, 0].int().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]  # pads see themselves
    with pytest.raises(ValueError, match="at least one token"):
        pack_units([Unit([], [])], pad_id=3)


def test_packed_sequences_equal_padded_forwards(model):
    prompts, completions = _sequences(SKEWED)
    rows = pack_shared(prompts, completions, [[] for _ in prompts], pad_id=2, capacity=32)
    assert rows.input_ids.shape[0] < len(prompts)  # several sequences share a row
    with torch.no_grad():
        logps, _, counts, _ = shared_logps(model, rows)
        expected, expected_counts = _padded(model, prompts, completions)
    torch.testing.assert_close(logps, expected, **SUMS)
    assert counts.tolist() == expected_counts.tolist()


def test_a_sequence_without_prompt_scores_all_but_its_first_token_when_packed(model):
    prompts, completions = [[], [0, 9]], [[5, 6, 7, 1], [8, 1]]
    rows = pack_shared(prompts, completions, [[], []], pad_id=2, capacity=8)
    assert rows.input_ids.shape[0] == 1
    with torch.no_grad():
        logps, _, counts, _ = shared_logps(model, rows)
        ids, attention, completion = pad_right([[5], [0, 9]], [[6, 7, 1], [8, 1]], pad_id=2)
        expected, _ = sequence_logps(model, ids, attention, completion)
    assert counts.tolist() == [3, 2]
    torch.testing.assert_close(logps, expected, **SUMS)


def test_grouped_forward_packs_a_skewed_batch_logs_it_and_keeps_values_and_gradients(model, caplog):
    prompts, completions = _sequences(SKEWED, seed=1)
    ids, attention, completion = pad_right(prompts, completions, pad_id=2)
    lengths = attention.sum(-1).tolist()
    assert packing_pays(lengths, len(lengths) * max(lengths))[0]
    weight = model.model.layers[0].mlp.up_proj.weight

    def run(forward):
        model.zero_grad()
        logps, counts = forward(model, ids, attention, completion)
        (logps * torch.linspace(0.5, 1.5, len(logps))).sum().backward()
        return logps.detach(), counts, weight.grad.clone()

    with caplog.at_level(logging.INFO, logger="alignlab.models.packing"):
        packed = run(grouped_sequence_logps)
    plain = run(sequence_logps)
    model.zero_grad()
    assert "separate forwards: packed several to a row" in caplog.text
    torch.testing.assert_close(packed[0], plain[0], **SUMS)
    assert packed[1].tolist() == plain[1].tolist()
    torch.testing.assert_close(packed[2], plain[2], atol=1e-5, rtol=1e-4)


def test_even_lengths_stay_length_grouped():
    lengths = [30, 31, 29, 30, 30, 31, 30, 29]
    pack, saving = packing_pays(lengths, len(lengths) * max(lengths))
    assert not pack and saving <= 0


def test_packed_prompt_shared_pairs_equal_separate_forwards(model):
    """DPO's chosen/rejected (and KTO's completion/KL completion) after one prompt, several pairs to a row."""
    generator = torch.Generator().manual_seed(2)
    prompts = [[0, *torch.randint(5, 64, (n,), generator=generator).tolist()] for n in (20, 4, 5, 18, 3, 6)]
    firsts = [torch.randint(5, 64, (n,), generator=generator).tolist() for n in (6, 3, 2, 7, 4, 2)]
    seconds = [torch.randint(5, 64, (n,), generator=generator).tolist() for n in (5, 2, 4, 8, 3, 3)]
    pairs = Pairs(prompts, firsts, seconds)
    rows = pack_shared(prompts, firsts, seconds, pad_id=2, capacity=40)
    assert rows.input_ids.shape[0] < len(prompts)
    with torch.no_grad():
        first, second, first_n, second_n = shared_logps(model, rows)
        grouped = grouped_shared_logps(model, pairs, torch.device("cpu"))
        expected_first, count_first = _padded(model, prompts, firsts)
        expected_second, count_second = _padded(model, prompts, seconds)
    for got in ((first, second), grouped[:2]):
        torch.testing.assert_close(got[0], expected_first, **SUMS)
        torch.testing.assert_close(got[1], expected_second, **SUMS)
    assert first_n.tolist() == count_first.tolist() and second_n.tolist() == count_second.tolist()


def test_kto_step_with_a_packed_batch_equals_padded_forwards(model, caplog):
    """KTO's completions and KL completions through the trainer's own forward, with lengths that pack."""
    from alignlab.backends.train.preference import AlignlabKTOTrainer, UnpairedCollator
    from tests.unit.algorithms.dpo.conftest import kto_step_host

    prompts, completions = _sequences(SKEWED, seed=3)
    kl_completions = completions[1:] + completions[:1]
    examples = [{"prompt_ids": p, "completion_ids": a, "KL_completion_ids": b, "label": i % 2 == 0}
                for i, (p, a, b) in enumerate(zip(prompts, completions, kl_completions, strict=True))]
    batch = UnpairedCollator(pad_token_id=2).torch_call(examples)
    fake = kto_step_host()
    with torch.no_grad(), caplog.at_level(logging.INFO, logger="alignlab.models.packing"):
        logps, kl_logps = AlignlabKTOTrainer._policy_logps(fake, model, batch, "train")
        expected, _ = _padded(model, prompts, completions)
        expected_kl, _ = _padded(model, prompts, kl_completions)
    torch.testing.assert_close(logps, expected, **SUMS)
    assert "packed several to a row" in caplog.text
    torch.testing.assert_close(kl_logps, expected_kl, **SUMS)
