"""Prefix-shared forwards equal separate forwards: summed log-probs (DPO pairs, KTO's KL pairs, the reference
pass), gradients, multi-turn prompts, truncated pairs, and the cost rule that picks sharing."""

from __future__ import annotations

import pytest
import torch

from alignlab.backends.train.preference import (
    PreferenceCollator,
    grouped_sequence_logps,
    pad_right,
    reference_column_logps,
    reference_logps,
    sequence_logps,
)
from alignlab.backends.train.prefix_sharing import (
    Pairs,
    pack_shared,
    pairs_from_batch,
    shared_logps,
    shared_pays,
)
from tests.unit.algorithms.dpo.conftest import SUMS


@pytest.fixture(scope="module")
def model(logprob_model):
    return logprob_model


def _separate(model, prompts, completions):
    """One plain padded forward: neither length groups nor packing."""
    ids, attention, completion = pad_right(prompts, completions, pad_id=2)
    with torch.no_grad():
        return sequence_logps(model, ids, attention, completion)


def _multi_turn(generator, turns):
    """<user> ... <assistant> ... repeated: token 3 opens a user turn, 4 an assistant turn."""
    ids = [0]
    for _ in range(turns):
        ids += [3, *torch.randint(5, 64, (int(torch.randint(3, 9, ())),), generator=generator).tolist()]
        ids += [4, *torch.randint(5, 64, (int(torch.randint(2, 7, ())),), generator=generator).tolist()]
    return ids + [3, *torch.randint(5, 64, (4,), generator=generator).tolist(), 4]


def _pairs(count=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    prompts = [_multi_turn(generator, turns=1 + i % 3) for i in range(count)]
    firsts = [torch.randint(5, 64, (3 + 2 * i,), generator=generator).tolist() + [1] for i in range(count)]
    seconds = [torch.randint(5, 64, (9 - i,), generator=generator).tolist() + [1] for i in range(count)]
    seconds[0] = firsts[0][:2] + seconds[0]  # responses that start alike still score as their own sequences
    return prompts, firsts, seconds


def test_shared_rows_equal_separate_forwards_on_multi_turn_prompts(model):
    prompts, firsts, seconds = _pairs()
    rows = pack_shared(prompts, firsts, seconds, pad_id=2)
    with torch.no_grad():
        first, second, first_n, second_n = shared_logps(model, rows)
    expected_first, count_first = _separate(model, prompts, firsts)
    expected_second, count_second = _separate(model, prompts, seconds)
    torch.testing.assert_close(first, expected_first, **SUMS)
    torch.testing.assert_close(second, expected_second, **SUMS)
    assert first_n.tolist() == count_first.tolist() and second_n.tolist() == count_second.tolist()
    # The layout: one row per pair, the second segment restarting at the last prompt token's position.
    p, a = len(prompts[1]), len(firsts[1])
    assert rows.input_ids[1, p + a].item() == prompts[1][-1]
    assert rows.position_ids[1, p + a].item() == p - 1 and rows.position_ids[1, p + a + 1].item() == p
    assert not rows.attention_mask[1, 0, p + a:, p - 1:p + a].any()


def test_gradients_equal_separate_forwards(model):
    prompts, firsts, seconds = _pairs(count=3, seed=1)
    weight = model.model.layers[0].mlp.up_proj.weight

    def gradient(loss_fn):
        model.zero_grad()
        loss_fn().backward()
        return weight.grad.clone()

    def shared():
        first, second, _, _ = shared_logps(model, pack_shared(prompts, firsts, seconds, pad_id=2))
        return (first - 0.5 * second).sum()

    def separate():
        return (_separate_grad(model, prompts, firsts) - 0.5 * _separate_grad(model, prompts, seconds)).sum()

    torch.testing.assert_close(gradient(shared), gradient(separate), atol=1e-5, rtol=1e-4)
    model.zero_grad()


def _separate_grad(model, prompts, completions):
    ids, attention, completion = pad_right(prompts, completions, pad_id=2)
    return sequence_logps(model, ids, attention, completion)[0]


def test_truncated_pairs_from_a_trl_batch_equal_separate_forwards(model):
    """TRL's collator truncates prompt + response to max_length: a side may lose its whole response."""
    prompts, firsts, seconds = _pairs(count=4, seed=2)
    examples = [{"prompt_ids": p, "chosen_ids": a, "rejected_ids": b} for p, a, b in zip(prompts, firsts, seconds,
                                                                                          strict=True)]
    width = len(prompts[0]) + 2  # the first pair keeps 2 tokens of each response; others lose more
    batch = PreferenceCollator(pad_token_id=2, max_length=width).torch_call(examples)
    half = len(examples)
    pairs = pairs_from_batch(batch["input_ids"], batch["attention_mask"], batch["completion_mask"],
                             slice(0, half), slice(half, None))
    assert pairs is not None and len(pairs.firsts[0]) == 2
    with torch.no_grad():
        first, second, _, _ = shared_logps(model, pack_shared(pairs.prompts, pairs.firsts, pairs.seconds, 2))
        expected, _ = grouped_sequence_logps(model, batch["input_ids"], batch["attention_mask"],
                                             batch["completion_mask"])
    torch.testing.assert_close(torch.cat([first, second]), expected, **SUMS)


def test_pairs_without_a_common_prompt_are_not_shared():
    ids, attention, completion = pad_right([[0, 5, 6], [0, 5, 7]], [[8, 1], [9, 1]], pad_id=2)
    assert pairs_from_batch(ids, attention, completion, slice(0, 1), slice(1, None)) is None
    ids, attention, completion = pad_right([[0, 5], [0, 5]], [[8, 1], [9, 9, 1]], pad_id=2)
    pairs = pairs_from_batch(ids, attention, completion, slice(0, 1), slice(1, None))
    assert pairs == Pairs([[0, 5]], [[8, 1]], [[9, 9, 1]])


def test_sharing_is_chosen_when_the_prompt_is_most_of_the_tokens():
    long_prompt = Pairs([[0] * 200] * 8, [[5] * 20] * 8, [[6] * 30] * 8)
    short_prompt = Pairs([[0] * 4] * 8, [[5] * 120] * 8, [[6] * 100] * 8)
    share, saving = shared_pays(long_prompt)
    assert share and saving > 0.4
    share, saving = shared_pays(short_prompt)
    assert not share and saving < 0.1


def test_reference_columns_with_one_prompt_list_are_computed_in_shared_rows(model):
    prompts, firsts, seconds = _pairs(count=5, seed=3)
    got = reference_column_logps(model, {"ref_chosen_logps": (prompts, firsts),
                                         "ref_rejected_logps": (prompts, seconds)}, pad_id=2, batch_size=2)
    for name, completions in (("ref_chosen_logps", firsts), ("ref_rejected_logps", seconds)):
        expected = reference_logps(model, prompts, completions, pad_id=2, batch_size=2)
        torch.testing.assert_close(got[name], expected, **SUMS)


def test_dpo_batch_forward_shares_long_prompts_and_logs_the_choice(model, caplog):
    from alignlab.backends.train.preference import paired_logps
    from alignlab.backends.train.prefix_sharing import ChoiceLog

    prompts, firsts, seconds = _pairs(count=4, seed=4)
    examples = [{"prompt_ids": p * 3, "chosen_ids": a, "rejected_ids": b}
                for p, a, b in zip(prompts, firsts, seconds, strict=True)]
    batch = PreferenceCollator(pad_token_id=2).torch_call(examples)
    separate = (batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    pairs = pairs_from_batch(*separate, slice(0, 4), slice(4, None))
    with torch.no_grad(), caplog.at_level("INFO", logger="alignlab.backends.train.prefix_sharing"):
        logps, counts, shared = paired_logps(model, pairs, separate, log=ChoiceLog("DPO forward"))
        expected, expected_counts = grouped_sequence_logps(model, *separate)
    assert shared and "prompt computed once per pair" in caplog.text
    torch.testing.assert_close(logps, expected, **SUMS)
    assert counts.tolist() == expected_counts.tolist()


def test_kto_kl_term_shares_the_prompt_of_its_example(model):
    """KTO's KL completion i follows prompt i: one row per example holds both; values equal separate passes."""
    from alignlab.backends.train.preference import AlignlabKTOTrainer, UnpairedCollator
    from tests.unit.algorithms.dpo.conftest import kto_step_host

    prompts, firsts, seconds = _pairs(count=4, seed=5)
    examples = [{"prompt_ids": p * 3, "completion_ids": a, "KL_completion_ids": b, "label": i % 2 == 0}
                for i, (p, a, b) in enumerate(zip(prompts, firsts, seconds, strict=True))]
    batch = UnpairedCollator(pad_token_id=2).torch_call(examples)
    fake = kto_step_host()
    with torch.no_grad():
        logps, kl_logps = AlignlabKTOTrainer._policy_logps(fake, model, batch, "train")
        expected = grouped_sequence_logps(model, batch["input_ids"], batch["attention_mask"],
                                          batch["completion_mask"])[0]
        expected_kl = fake._policy_kl_logps(model, batch)
    assert fake._metrics["train"]["prefix_shared"] == [1.0]
    torch.testing.assert_close(logps, expected, **SUMS)
    torch.testing.assert_close(kl_logps, expected_kl, **SUMS)
