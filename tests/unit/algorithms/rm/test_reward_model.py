"""The input format shared by training and scoring (equal to TRL's tokenization, eos kept, truncation keeps the
response end), loading rules and one-line errors for folders that are not reward models."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from alignlab.errors import ModelLoadError
from alignlab.models.reward import (
    InputFormat,
    RewardModel,
    check_sequence_classifier,
    load_for_training,
    pad_right,
    resolve_base_model,
    truncate_left,
)

CHAT = {"prompt": [{"role": "user", "content": "Tell me a story."}],
        "chosen": [{"role": "assistant", "content": "Tom saw the dog."}]}
PLAIN = {"prompt": "\n\nHuman: Tell me a story.\n\nAssistant:", "chosen": " Tom saw the dog."}


def test_chat_encoding_equals_trl_conversational(tokenizer):
    from trl.data_utils import _tokenize

    fmt = InputFormat.for_tokenizer(tokenizer, "auto", 512)
    assert fmt.style == "chat" and len(fmt.chat_template_sha256) == 64
    (ids,) = fmt.encode(tokenizer, [CHAT["prompt"]], [CHAT["chosen"]])
    assert ids == _tokenize(tokenizer, CHAT["prompt"] + CHAT["chosen"])["input_ids"]  # what RewardTrainer trains on
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    # A string prompt is one user message.
    assert fmt.encode(tokenizer, ["Tell me a story."], [CHAT["chosen"]]) == [ids]


def test_plain_encoding_equals_trl_standard_with_eos(tokenizer):
    fmt = InputFormat.for_tokenizer(tokenizer, "never", 512)
    (ids,) = fmt.encode(tokenizer, [PLAIN["prompt"]], [PLAIN["chosen"]])
    # TRL's standard format: prompt + chosen + eos (added when missing), tokenized with special tokens.
    trl_ids = tokenizer(PLAIN["prompt"] + PLAIN["chosen"] + tokenizer.eos_token)["input_ids"]
    assert ids == trl_ids and ids[-1] == tokenizer.eos_token_id
    # Messages in plain style become an HH transcript; eos is never doubled.
    assert fmt.encode(tokenizer, [CHAT["prompt"]], [CHAT["chosen"]]) == [ids]
    assert fmt.encode(tokenizer, [PLAIN["prompt"]], [PLAIN["chosen"] + tokenizer.eos_token]) == [ids]


def test_truncation_keeps_bos_and_the_response_end(tokenizer):
    fmt = InputFormat.for_tokenizer(tokenizer, "auto", 12)
    long_prompt = [{"role": "user", "content": "word " * 200}]
    (ids,) = fmt.encode(tokenizer, [long_prompt], [CHAT["chosen"]])
    (full,) = InputFormat.for_tokenizer(tokenizer, "auto", 10_000).encode(tokenizer, [long_prompt], [CHAT["chosen"]])
    assert len(ids) == 12 and ids[0] == tokenizer.bos_token_id and ids[1:] == full[-11:]
    assert truncate_left([5, 6, 7], 2, bos_id=0) == [6, 7]
    assert truncate_left([0, 6, 7, 8], 3, bos_id=0) == [0, 7, 8]


def test_format_round_trips_and_chat_needs_a_template(tokenizer):
    fmt = InputFormat.for_tokenizer(tokenizer, "always", 64)
    assert InputFormat.from_dict(fmt.to_dict()) == fmt
    template = tokenizer.chat_template
    try:
        tokenizer.chat_template = None
        assert InputFormat.for_tokenizer(tokenizer, "auto", 64).style == "plain"
        with pytest.raises(ModelLoadError, match="rm.chat_template is always but the tokenizer has no chat template"):
            InputFormat.for_tokenizer(tokenizer, "always", 64)
    finally:
        tokenizer.chat_template = template


def test_pad_right():
    input_ids, mask = pad_right([[1, 2, 3], [4]], pad_id=9)
    assert input_ids.tolist() == [[1, 2, 3], [4, 9, 9]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]


def test_a_causal_lm_is_not_a_reward_model(tiny):
    with pytest.raises(ModelLoadError, match=r"not a sequence classifier \(LlamaForCausalLM\)"):
        check_sequence_classifier(tiny.policy_dir)
    with pytest.raises(ModelLoadError, match="not a sequence classifier"):
        RewardModel.load(tiny.policy_dir)


def test_a_plain_sequence_classifier_loads_without_a_card(tiny):
    rm = RewardModel.load(tiny.reward_dir)  # no alignlab_rm.json: chat template guessed
    assert rm.kind == "bradley_terry" and rm.format.style == "chat"
    scores = rm.score(["hi", "hello there"], ["yo", "a longer answer here"], batch_size=1)
    batched = rm.score(["hi", "hello there"], ["yo", "a longer answer here"], batch_size=2)
    assert scores.reward.shape == (2,) and scores.std is None
    assert np.allclose(scores.reward, batched.reward, atol=1e-5)  # padding does not change a score
    reward_fn = rm.reward_function()
    assert reward_fn(prompts=["hi"], completions=["yo"]) == pytest.approx([scores.reward[0]], abs=1e-5)


def test_new_heads_come_from_the_seed_and_fit_the_label_count(tiny):
    first = load_for_training(str(tiny.policy_dir), num_labels=1, seed=1, pad_token_id=2)
    again = load_for_training(str(tiny.policy_dir), num_labels=1, seed=1, pad_token_id=2)
    other = load_for_training(str(tiny.policy_dir), num_labels=1, seed=2, pad_token_id=2)
    assert first.score.weight.equal(again.score.weight) and not first.score.weight.equal(other.score.weight)
    three = load_for_training(str(tiny.reward_dir), num_labels=3, seed=0, pad_token_id=2)  # 1-label classifier
    assert three.score.weight.shape[0] == 3 and three.config.pad_token_id == 2


def test_tiny_names_resolve_to_a_cached_build(tiny, tmp_path):
    shutil.copytree(tiny.out_dir, tmp_path / "nano-seed0")
    assert resolve_base_model("tiny:nano", tmp_path) == str(tmp_path / "nano-seed0" / "policy")
    assert resolve_base_model("Qwen/Qwen2.5-0.5B-Instruct", tmp_path) == "Qwen/Qwen2.5-0.5B-Instruct"
    with pytest.raises(Exception, match="unknown tiny model size 'nanu'. Did you mean 'nano'"):
        resolve_base_model("tiny:nanu", tmp_path)
