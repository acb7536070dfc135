"""The tiny tokenizer: byte-level round trips, special tokens, and the chat template TRL relies on."""

from __future__ import annotations

import jinja2
import pytest

from alignlab.models.tiny import ASSISTANT, BOS, END_OF_TURN, EOS, PAD, SPECIAL_TOKENS, SYSTEM, USER

TEXTS = [
    "Once upon a time, there was a little car named Beep.",
    "  two leading spaces, a tab\there, a trailing space \n\nand blank lines\n",
    "مرحبا بالعالم، كيف حالك اليوم؟",  # Arabic
    "إزيك يا صاحبي؟ عامل إيه النهارده",  # Egyptian Arabic
    "日本語のテキスト and 中文 mixed",
    "emoji 👩‍👩‍👧 and flags 🇪🇬, combining e\u0301, zero-width\u200bspace",
    "mis-encoded quotes â€œlike thisâ€\x9d from the corpus",
    "a , b . c ! d 's 'll n't",  # spacing that decode clean-up would change
]


@pytest.mark.parametrize("text", TEXTS)
def test_encode_decode_round_trips_exactly(tiny_tokenizer, text):
    ids = tiny_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tiny_tokenizer.decode(ids) == text
    with_bos = tiny_tokenizer(text)["input_ids"]
    assert with_bos[0] == tiny_tokenizer.bos_token_id
    assert tiny_tokenizer.decode(with_bos, skip_special_tokens=True) == text


def test_special_tokens_have_fixed_distinct_ids(tiny_tokenizer):
    assert (tiny_tokenizer.bos_token, tiny_tokenizer.eos_token, tiny_tokenizer.pad_token) == (BOS, EOS, PAD)
    assert (tiny_tokenizer.bos_token_id, tiny_tokenizer.eos_token_id, tiny_tokenizer.pad_token_id) == (0, 1, 2)
    for token in SPECIAL_TOKENS:
        assert len(tiny_tokenizer(token, add_special_tokens=False)["input_ids"]) == 1, token
    assert tiny_tokenizer.model_max_length == 1024
    assert tiny_tokenizer.padding_side == "right"
    assert len(tiny_tokenizer) == 2048
    # Plain encoding adds bos only; eos belongs to the chat template (and TRL adds it where it wants it).
    assert tiny_tokenizer("hi")["input_ids"][-1] != tiny_tokenizer.eos_token_id


CONVERSATION = [
    {"role": "system", "content": "Be kind."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"},
    {"role": "assistant", "content": "Bye now."},
]


def test_chat_template_renders_two_turns(tiny_tokenizer):
    rendered = tiny_tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert rendered == (
        f"{BOS}{SYSTEM}\nBe kind.{END_OF_TURN}{USER}\nHi there{END_OF_TURN}{ASSISTANT}\nHello!{EOS}"
        f"{USER}\nBye{END_OF_TURN}{ASSISTANT}\nBye now.{EOS}"
    )


def test_generation_prompt_opens_an_assistant_turn(tiny_tokenizer):
    prompt = tiny_tokenizer.apply_chat_template(CONVERSATION[:2], tokenize=False, add_generation_prompt=True)
    assert prompt == f"{BOS}{SYSTEM}\nBe kind.{END_OF_TURN}{USER}\nHi there{END_OF_TURN}{ASSISTANT}\n"
    without = tiny_tokenizer.apply_chat_template(CONVERSATION[:2], tokenize=False)
    assert not without.endswith(f"{ASSISTANT}\n")
    # Prefix-preserving: prompt + completion is exactly the full conversation (what DPO/TRL slice on).
    full = tiny_tokenizer.apply_chat_template(CONVERSATION[:3], tokenize=False)
    assert full == prompt + f"Hello!{EOS}"


def test_assistant_turns_end_with_eos_inside_the_assistant_mask(tiny_tokenizer):
    out = tiny_tokenizer.apply_chat_template(
        CONVERSATION, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    ids = out["input_ids"]
    assert ids[0] == tiny_tokenizer.bos_token_id
    assert ids[-1] == tiny_tokenizer.eos_token_id
    masked = [token for token, keep in zip(ids, out["assistant_masks"], strict=True) if keep]
    assert tiny_tokenizer.decode(masked) == f"Hello!{EOS}Bye now.{EOS}"


def test_unknown_role_is_a_template_error(tiny_tokenizer):
    with pytest.raises(jinja2.TemplateError, match="unknown chat role \"tool\""):
        tiny_tokenizer.apply_chat_template([{"role": "tool", "content": "x"}], tokenize=False)


def test_trl_sees_generation_markers_and_a_trained_stop_token(tiny_tokenizer):
    from trl.chat_template_utils import has_generation_markers, is_chat_template_stop_token_trained

    assert has_generation_markers(tiny_tokenizer.chat_template)
    assert is_chat_template_stop_token_trained(tiny_tokenizer)
