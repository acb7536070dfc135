"""Preference data for DPO/KTO: chat-template encoding (multi-turn), truncation policies, the stable split,
agreement-aware trust, and the one-line errors for data that does not fit the method."""

from __future__ import annotations

import json

import pytest

from alignlab.algorithms.preference_data import (
    Encoder,
    as_pairs,
    example_trust,
    read_records,
    read_split,
    rotate_within_batches,
    trust_columns,
    unpair,
)
from alignlab.config.dpo import PreferenceDataSection, WeightingSection
from alignlab.errors import DataError


def _encoder(tokenizer, **options):
    data = PreferenceDataSection(path="x.jsonl", **options)
    return Encoder.for_data(tokenizer, data)


def test_chat_encoding_keeps_every_turn_and_splits_at_the_assistant_turn(tokenizer):
    prompt = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi."},
              {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "A story?"}]
    chosen = [{"role": "assistant", "content": "Once upon a time."}]
    prompt_ids, (chosen_ids,) = _encoder(tokenizer).encode(prompt, [chosen], "x:1")
    text = tokenizer.decode(prompt_ids)
    assert "Be kind." in text and "Hello!" in text and "A story?" in text and text.endswith("<|assistant|>\n")
    assert tokenizer.decode(chosen_ids) == "Once upon a time.<|eos|>"
    full = tokenizer.apply_chat_template(prompt + chosen, tokenize=False)
    assert tokenizer.decode(prompt_ids + chosen_ids) == full


def test_plain_encoding_appends_eos(tokenizer):
    prompt_ids, (answer,) = _encoder(tokenizer, chat_template="never").encode("Q: hi\nA:", [" fine"], "x:1")
    assert tokenizer.decode(answer).endswith("<|eos|>") and prompt_ids[0] == tokenizer.bos_token_id


def _long(tokenizer, truncation, max_length=24):
    encoder = _encoder(tokenizer, max_length=max_length, truncation=truncation)
    prompt = [{"role": "user", "content": "Tell me a story about a dog. " * 2}]
    answers = [[{"role": "assistant", "content": "The dog ran to the park and saw a big red ball. " * 2}],
               [{"role": "assistant", "content": "No."}]]
    return encoder, encoder.encode(prompt, answers, "prefs.jsonl:7")


def test_truncate_response_keeps_the_prompt(tokenizer):
    encoder, (prompt, answers) = _long(tokenizer, "truncate_response", max_length=40)
    assert len(prompt) + max(len(a) for a in answers) == 40 and encoder.counts["truncated"] == 1
    assert tokenizer.decode(prompt).endswith("<|assistant|>\n")
    assert tokenizer.decode(answers[1]) == "No.<|eos|>"  # the short response is whole


@pytest.mark.parametrize("max_length", [16, 30, 40])
def test_truncate_prompt_drops_the_oldest_prompt_tokens(tokenizer, max_length):
    _, (full_prompt, full_answers) = _long(tokenizer, "truncate_prompt", max_length=1000)
    _, (prompt, answers) = _long(tokenizer, "truncate_prompt", max_length=max_length)
    assert len(prompt) + max(len(a) for a in answers) <= max_length
    assert prompt == full_prompt[len(full_prompt) - len(prompt):]  # the newest prompt tokens stay
    assert len(prompt) >= min(len(full_prompt), max_length // 2)  # never less than half the budget
    assert all(full[:len(cut)] == cut for full, cut in zip(full_answers, answers, strict=True))


def test_drop_and_error_policies(tokenizer):
    encoder, result = _long(tokenizer, "drop")
    assert result is None and encoder.counts["dropped"] == 1
    with pytest.raises(DataError, match=r"^prefs.jsonl:7: prompt \d+ \+ response \d+ tokens exceed data.max_length"):
        _long(tokenizer, "error")


def test_prompt_longer_than_max_length_is_a_one_line_error(tokenizer):
    encoder = _encoder(tokenizer, max_length=8)
    with pytest.raises(DataError) as err:
        encoder.encode([{"role": "user", "content": "a very long prompt " * 5}],
                       [[{"role": "assistant", "content": "ok"}]], "prefs.jsonl:3")
    assert str(err.value).startswith("prefs.jsonl:3: the prompt alone has") and "\n" not in str(err.value)


def test_unpaired_file_given_to_dpo_is_named(tmp_path):
    path = tmp_path / "thumbs.jsonl"
    path.write_text(json.dumps({"prompt": "p", "completion": "c", "label": True}) + "\n")
    with pytest.raises(DataError, match=r"holds unpaired rows .* `alignlab train kto`"):
        read_records(str(path), "pairwise")
    with pytest.raises(DataError, match="DPO, which trains on pairs"):
        as_pairs("unpaired", [("x:1", {"prompt": "p", "completion": "c", "label": True})])


def test_paired_file_given_as_unpaired_is_named(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}) + "\n")
    with pytest.raises(DataError, match=r"holds pairs .* data.unpair: true"):
        read_records(str(path), "unpaired")


def test_split_is_stable_and_rankings_become_pairs(tmp_path):
    path = tmp_path / "ranked.jsonl"
    rows = [{"prompt": f"p{i}", "responses": ["a", "b", "c"], "ranks": [1, 2, 3]} for i in range(40)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    data = PreferenceDataSection(path=str(path), format="ranking", test_size=0.25)
    first, second = read_split(data, as_pairs), read_split(data, as_pairs)
    assert [r["id"] for _w, r in first.eval] == [r["id"] for _w, r in second.eval]
    assert len(first.train) + len(first.eval) == 40 * 3  # three pairs per ranking, all on one side
    assert {r["prompt"] for _w, r in first.train}.isdisjoint({r["prompt"] for _w, r in first.eval})


def test_trust_from_agreement_margin_and_weight():
    records = [{"agreement": 1.0, "margin": 2.0, "weight": 0.5}, {"agreement": 0.75, "margin": 1.0},
               {"agreement": 0.5}]
    assert example_trust(records, WeightingSection(source="agreement"), "x") == [1.0, 0.5, 0.0]
    assert example_trust(records, WeightingSection(source="margin"), "x") == [1.0, 0.5, 1.0]
    assert example_trust(records, WeightingSection(source="weight"), "x") == [0.5, 1.0, 1.0]
    smoothing = trust_columns([1.0, 0.5, 0.0], WeightingSection(source="agreement", mode="label_smoothing"))
    assert smoothing == {"label_smoothing": [0.0, 0.25, 0.4]}  # e = 1 - agreement, capped at 0.4
    with pytest.raises(DataError, match="no training record has a 'agreement' field"):
        example_trust([{"margin": 1.0}], WeightingSection(source="agreement"), "prefs.jsonl")


def test_unpair_and_kl_rotation():
    pairs = [("x:1", {"id": "a", "prompt": "p", "chosen": "good", "rejected": "bad", "agreement": 1.0})]
    examples = unpair("pairwise", pairs)
    assert [(r["completion"], r["label"], r["agreement"]) for _w, r in examples] == [("good", True, 1.0),
                                                                                     ("bad", False, 1.0)]
    assert rotate_within_batches([[1], [2], [3], [4], [5]], 2) == [[2], [1], [4], [3], [5]]
