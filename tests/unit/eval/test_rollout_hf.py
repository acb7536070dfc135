"""The HF rollout engine: order, determinism, log-probs that equal a forward pass, weight updates."""

from __future__ import annotations

import pytest
import torch

from alignlab.backends.rollout import ROLLOUT_ENGINES, RolloutEngine, SamplingParams
from alignlab.backends.rollout.base import truncate_at_stop
from alignlab.backends.rollout.hf import HFRolloutEngine
from alignlab.eval.scoring import score_tokens

PROMPTS = ["Tell me a story about a dog.", "Hi", "What is the capital of France? Answer in one word please."]


@pytest.fixture(scope="module")
def engine(tiny_lm):
    return HFRolloutEngine(tiny_lm.model, tiny_lm.tokenizer, batch_size=2)


@pytest.fixture(scope="module")
def prompts(tiny_lm):
    return tiny_lm.chat_prompts([[{"role": "user", "content": p}] for p in PROMPTS])


def test_registry_and_protocol(engine):
    assert ROLLOUT_ENGINES.get("hf") is HFRolloutEngine
    assert isinstance(engine, RolloutEngine)


def test_greedy_is_deterministic_and_in_prompt_order(engine, prompts):
    first = engine.generate(prompts, SamplingParams(max_new_tokens=5))
    second = engine.generate(list(reversed(prompts)), SamplingParams(max_new_tokens=5))
    assert [c.prompt_index for c in first] == [0, 1, 2]
    assert [c.text for c in first] == [c.text for c in reversed(second)]
    assert all(len(c.token_ids) == 5 and c.finish_reason == "length" for c in first)


def test_logprobs_equal_a_forward_pass_and_text_decodes_the_tokens(engine, prompts, tiny_lm):
    completion = engine.generate(prompts[:1], SamplingParams(max_new_tokens=6))[0]
    prompt_ids = tiny_lm.tokenizer(prompts[0], add_special_tokens=False)["input_ids"]
    direct = score_tokens(tiny_lm.model, [(prompt_ids, list(completion.token_ids))])[0]
    assert completion.logprob == pytest.approx(direct.logprob, abs=1e-3)
    assert direct.is_greedy  # greedy decoding picked the argmax every time
    assert completion.text == tiny_lm.tokenizer.decode(list(completion.token_ids), skip_special_tokens=True)


def test_sampling_n_per_prompt_is_seeded(engine, prompts):
    sampling = SamplingParams(max_new_tokens=4, temperature=1.0, n=2, seed=3)
    a, b = engine.generate(prompts, sampling), engine.generate(prompts, sampling)
    assert [(c.prompt_index, c.sample_index) for c in a] == [(i, k) for i in range(3) for k in range(2)]
    assert [c.token_ids for c in a] == [c.token_ids for c in b]
    assert all(lp <= 0 for c in a for lp in c.logprobs)


def test_update_weights_replaces_the_policy(tiny_lm, prompts):
    model = type(tiny_lm.model)(tiny_lm.model.config).eval()  # fresh random weights
    engine = HFRolloutEngine(model, tiny_lm.tokenizer, batch_size=4)
    engine.update_weights(tiny_lm.model.state_dict())
    expected = HFRolloutEngine(tiny_lm.model, tiny_lm.tokenizer).generate(prompts, SamplingParams(max_new_tokens=4))
    assert [c.token_ids for c in engine.generate(prompts, SamplingParams(max_new_tokens=4))] == [
        c.token_ids for c in expected]
    with pytest.raises(KeyError, match="names the model does not have"):
        engine.update_weights({"not.a.weight": torch.zeros(1)})


def test_sampling_params_are_validated_and_stop_strings_cut_text():
    with pytest.raises(ValueError, match="identical samples"):
        SamplingParams(n=2)
    with pytest.raises(ValueError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=0)
    assert truncate_at_stop("one\ntwo", ["\n"]) == ("one", True)
    assert truncate_at_stop("one two", ["\n"]) == ("one two", False)
