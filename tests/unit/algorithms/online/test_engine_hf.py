"""The hf rollout engine in online RL: a separate engine takes the trained weights through update_weights."""

from __future__ import annotations

import pytest
import torch


def test_update_weights_makes_a_separate_engine_sample_like_the_policy(policy, tokenizer):
    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.models import load_causal_lm

    trained, stale = load_causal_lm(policy), load_causal_lm(policy)
    with torch.no_grad():
        for param in trained.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    engine_cls = ROLLOUT_ENGINES.get("hf")
    prompts = ["<|user|>\nTell me a story.<|end|><|assistant|>\n", "<|user|>\nWrite about a cat.<|end|><|assistant|>\n"]
    sampling = SamplingParams(max_new_tokens=10, temperature=1.0, n=2, seed=5)
    engine = engine_cls(stale, tokenizer, batch_size=4)
    expected = engine_cls(trained, tokenizer, batch_size=4).generate(prompts, sampling)
    assert [c.token_ids for c in engine.generate(prompts, sampling)] != [c.token_ids for c in expected]
    engine.update_weights(trained.state_dict())
    got = engine.generate(prompts, sampling)
    assert [c.token_ids for c in got] == [c.token_ids for c in expected]
    assert [x for c in got for x in c.logprobs] == pytest.approx([x for c in expected for x in c.logprobs])
    with pytest.raises(KeyError, match="names the model does not have"):
        engine.update_weights({"not.a.weight": torch.zeros(1)})


def test_a_caller_watching_progress_sees_a_bar_over_the_prompts_and_the_same_completions(policy, tokenizer,
                                                                                       monkeypatch, capsys):
    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.models import load_causal_lm
    from alignlab.utils import progress

    monkeypatch.setattr(progress, "interactive", lambda stream=None: True)  # as on a terminal
    engine = ROLLOUT_ENGINES.get("hf")(load_causal_lm(policy), tokenizer, batch_size=2)
    prompts = [f"<|user|>\nStory number {i}.<|end|><|assistant|>\n" for i in range(5)]
    sampling = SamplingParams(max_new_tokens=6, temperature=1.0, seed=3)
    unwatched = engine.generate(prompts, sampling)
    assert "generate" not in capsys.readouterr().out
    engine.progress = print
    watched = engine.generate(prompts, sampling)
    assert [c.token_ids for c in watched] == [c.token_ids for c in unwatched]
    shown = capsys.readouterr().out
    assert "generate" in shown and "5/5" in shown
