"""The reference log-prob cache: keys, atomic files, refusal of a file made for another model."""

from __future__ import annotations

import pytest
import torch

from alignlab.backends.train.refcache import (
    CacheKey,
    RefCacheMismatch,
    cache_path,
    load_cache,
    model_hash,
    save_cache,
    token_hash,
    tokenizer_hash,
)


def _key(**changes) -> CacheKey:
    fields = {"kind": "dpo", "model_hash": "a" * 64, "tokenizer_hash": "b" * 64, "data_hash": "c" * 64,
              "max_length": 128, "encoding": "chat/truncate_response"}
    return CacheKey(**{**fields, **changes})


def test_every_key_field_changes_the_file_name(tmp_path):
    names = {cache_path(tmp_path, "prefs", _key()).name}
    for change in ({"model_hash": "d" * 64}, {"tokenizer_hash": "e" * 64}, {"data_hash": "f" * 64},
                   {"max_length": 256}, {"encoding": "plain/drop"}, {"kind": "kto"}):
        names.add(cache_path(tmp_path, "prefs", _key(**change)).name)
    assert len(names) == 7
    assert cache_path(tmp_path, "prefs", _key()) == cache_path(tmp_path, "prefs", _key())


def test_round_trip_and_missing(tmp_path):
    path = tmp_path / "cache" / "x.safetensors"
    assert load_cache(path, _key()) is None
    tensors = {"train/ref_chosen_logps": torch.tensor([-1.5, -2.0]), "eval/ref_chosen_logps": torch.tensor([-3.0])}
    save_cache(path, _key(), tensors)
    loaded = load_cache(path, _key())
    assert set(loaded) == set(tensors)
    torch.testing.assert_close(loaded["train/ref_chosen_logps"], tensors["train/ref_chosen_logps"])
    assert [p.name for p in path.parent.iterdir()] == ["x.safetensors"]  # no temporary file left


def test_a_file_made_for_another_model_is_refused_in_one_line(tmp_path):
    path = tmp_path / "pinned.safetensors"
    save_cache(path, _key(), {"train/x": torch.zeros(2)})
    with pytest.raises(RefCacheMismatch) as err:
        load_cache(path, _key(model_hash="9" * 64))
    message = str(err.value)
    assert message.startswith(f"{path}: reference log-probs computed for another reference model (aaaaaaaaaaaa there")
    assert "\n" not in message
    with pytest.raises(RefCacheMismatch, match="another max_length"):
        load_cache(path, _key(max_length=64))


def test_a_broken_file_is_refused(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"not safetensors")
    with pytest.raises(RefCacheMismatch, match="not a readable reference log-prob file"):
        load_cache(path, _key())


def test_hashes_follow_weights_tokens_and_tokenizer(policy, tokenizer):
    from alignlab.models import load_causal_lm

    model = load_causal_lm(policy)
    before = model_hash(model)
    assert model_hash(load_causal_lm(policy)) == before
    with torch.no_grad():
        next(model.parameters())[0, 0] += 1e-3
    assert model_hash(model) != before
    assert token_hash({"a": [[1, 2], [3]]}) != token_hash({"a": [[1], [2, 3]]})
    assert len(tokenizer_hash(tokenizer)) == 64
