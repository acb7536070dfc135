"""The scoring engine equals a direct forward pass, whatever the batching and prefix sharing."""

from __future__ import annotations

import pytest
import torch

from alignlab.eval import scoring
from alignlab.eval.lm import rolling_windows
from alignlab.eval.scoring import encode_requests, loglikelihood, score_tokens

CONTEXT = "Context: Tom and Ann met at the park before school.\n\nQ: Who was late?\nA:"
REQUESTS = [
    (CONTEXT, " Tom"), (CONTEXT, " Ann"), (CONTEXT, " Cannot be determined"),  # a shared prompt
    ("", "The cat sat on the mat and looked at the big dog."),  # empty context: conditioned on bos
    ("", "The cat sat on the mat and looked at the small dog."),
    ("Hello  ", "world"),  # trailing spaces move to the continuation
    ("Once upon a time", " there was a girl named Lily."),
]


def direct(model, context_ids: list[int], continuation_ids: list[int]) -> tuple[float, bool]:
    ids = torch.tensor([context_ids + continuation_ids])
    with torch.no_grad():
        logprobs = model(ids).logits.log_softmax(-1)[0]
    start = len(context_ids) - 1
    picked = [logprobs[start + i, token].item() for i, token in enumerate(continuation_ids)]
    greedy = all(logprobs[start + i].argmax().item() == t for i, t in enumerate(continuation_ids))
    return sum(picked), greedy


@pytest.mark.parametrize("share_prefixes", [True, False])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_loglikelihood_equals_direct_forward_pass(tiny_lm, share_prefixes, batch_size):
    model, tokenizer = tiny_lm.model, tiny_lm.tokenizer
    results = loglikelihood(model, tokenizer, REQUESTS, batch_size=batch_size, share_prefixes=share_prefixes)
    for (context_ids, continuation_ids), result in zip(encode_requests(tokenizer, REQUESTS), results, strict=True):
        expected, greedy = direct(model, context_ids, continuation_ids)
        assert result.logprob == pytest.approx(expected, abs=1e-4)
        assert result.n_tokens == len(continuation_ids)
        assert result.is_greedy == greedy


def test_tokenization_follows_lm_evaluation_harness(tiny_lm):
    tokenizer = tiny_lm.tokenizer
    (ctx, cont), (empty_ctx, empty_cont) = encode_requests(tokenizer, [("Hello  ", "world"), ("", "A dog.")])
    whole = tokenizer("Hello  world")["input_ids"]
    assert ctx + cont == whole and ctx == tokenizer("Hello")["input_ids"]  # spaces moved into the continuation
    assert empty_ctx == [tokenizer.bos_token_id]
    assert empty_cont == tokenizer("A dog.", add_special_tokens=False)["input_ids"]


def test_shared_prompt_is_grouped_once(tiny_lm):
    encoded = encode_requests(tiny_lm.tokenizer, REQUESTS[:3])
    items = [scoring._Item(i, c + k, len(k)) for i, (c, k) in enumerate(encoded)]
    groups = scoring._prefix_groups(items)
    assert len(groups) == 1
    members, prefix = groups[0]
    assert len(members) == 3 and prefix >= len(encoded[0][0]) - 1


def test_greedy_continuation_is_recognised(tiny_lm):
    model, tokenizer = tiny_lm.model, tiny_lm.tokenizer
    context = tokenizer("The girl", add_special_tokens=True)["input_ids"]
    tokens = list(context)
    for _ in range(4):  # extend with the model's own argmax tokens
        with torch.no_grad():
            tokens.append(int(model(torch.tensor([tokens])).logits[0, -1].argmax()))
    result = score_tokens(model, [(context, tokens[len(context):])])[0]
    assert result.is_greedy and result.n_tokens == 4


def test_long_sequences_lose_tokens_on_the_left(tiny_lm):
    model = tiny_lm.model
    context, continuation = list(range(10, 40)), [50, 51, 52]
    truncated = score_tokens(model, [(context, continuation)], max_length=8)[0]
    expected, _ = direct(model, (context + continuation)[-9:-3], continuation)
    assert truncated.logprob == pytest.approx(expected, abs=1e-4)


def test_empty_continuation_scores_zero_and_empty_context_is_refused(tiny_lm):
    assert score_tokens(tiny_lm.model, [([1, 2], [])])[0].logprob == 0.0
    with pytest.raises(ValueError, match="empty context"):
        score_tokens(tiny_lm.model, [([], [5])])


def test_rolling_loglikelihood_covers_every_token_once(tiny_lm):
    text = "Lily and Tom went to the park. They played with a red ball all day long."
    result = tiny_lm.loglikelihood_rolling([text])[0]
    tokens = tiny_lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    expected, _ = direct(tiny_lm.model, [tiny_lm.tokenizer.bos_token_id], tokens)
    assert result.n_tokens == len(tokens) and result.n_bytes == len(text.encode())
    assert result.logprob == pytest.approx(expected, abs=1e-4)
    windows = rolling_windows(list(range(10)), prefix=0, max_length=4)
    assert [w[1] for w in windows] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [w[0] for w in windows] == [[0], [3], [7]]


@pytest.mark.gpu
def test_scores_on_cuda_match_the_cpu(tiny_lm):
    import copy

    model = copy.deepcopy(tiny_lm.model).to("cuda")
    on_gpu = loglikelihood(model, tiny_lm.tokenizer, REQUESTS, batch_size=3)
    on_cpu = loglikelihood(tiny_lm.model, tiny_lm.tokenizer, REQUESTS, batch_size=3)
    assert [r.logprob for r in on_gpu] == pytest.approx([r.logprob for r in on_cpu], abs=1e-3)


def test_groups_packed_several_to_a_row_equal_direct_forward_passes(tiny_lm, monkeypatch):
    """Multiple-choice groups of very different lengths: the short groups' rows ride behind each other in one
    row (block-diagonal attention, positions restarting per group); every answer equals a direct forward."""
    model, tokenizer = tiny_lm.model, tiny_lm.tokenizer
    long_context = "Context: " + " ".join(["Tom and Ann met at the park before school."] * 4) + "\nQ: Who?\nA:"
    requests = [(long_context, " Tom"), (long_context, " Ann"), (long_context, " Unknown")]
    for question in ("Is it red?", "Is it big?", "Who came?", "Why not?"):
        requests += [(f"Q: {question}\nA:", " Yes"), (f"Q: {question}\nA:", " No")]
    rows_per_call = []
    real_pack = scoring.pack_units

    def counting_pack(units, pad_id, capacity=None):  # the real function, its row count recorded
        packed = real_pack(units, pad_id, capacity)
        rows_per_call.append((len(units), packed.input_ids.shape[0]))
        return packed

    monkeypatch.setattr(scoring, "pack_units", counting_pack)
    results = loglikelihood(model, tokenizer, requests, batch_size=16)
    assert rows_per_call and rows_per_call[0][1] < rows_per_call[0][0]  # fewer rows than groups
    for (context_ids, continuation_ids), result in zip(encode_requests(tokenizer, requests), results, strict=True):
        expected, greedy = direct(model, context_ids, continuation_ids)
        assert result.logprob == pytest.approx(expected, abs=1e-4)
        assert result.is_greedy == greedy
