"""The tiny model factory: presets, determinism, atomic output, and models plain transformers can load."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, LlamaForCausalLM

from alignlab.errors import AlignlabError, DataError
from alignlab.models import tiny as tiny_module
from alignlab.models.tiny import MANIFEST_NAME, TINY_SIZES, build_tiny_models, count_parameters, tiny_llama_config
from alignlab.paths import tiny_corpus_files
from alignlab.registry import UnknownNameError

TARGETS = {"nano": 1e6, "micro": 5e6, "small": 15e6, "base": 30e6}


@pytest.mark.parametrize("size", sorted(TARGETS))
def test_size_presets_have_their_advertised_parameter_counts(size):
    with torch.device("meta"):  # no memory, no init: counting only
        model = LlamaForCausalLM(tiny_llama_config(size, vocab_size=2048))
    count = count_parameters(model)
    assert abs(count - TARGETS[size]) <= 0.35 * TARGETS[size]
    # The help text's figure matches the real count to the shown precision.
    assert TINY_SIZES.get(size).approx_parameters == f"{count / 1e6:.1f}M"


def test_sizes_are_the_ones_the_config_schema_allows():
    from typing import get_args

    from alignlab.config.schemas import TinySize

    assert set(TINY_SIZES.names()) == set(get_args(TinySize))


def test_unknown_size_names_the_valid_ones(tmp_path):
    with pytest.raises(UnknownNameError, match="Valid: base, micro, nano, small"):
        build_tiny_models(tmp_path / "out", size="huge")
    assert not (tmp_path / "out").exists()


def test_build_writes_both_models_and_a_manifest(tiny_models):
    assert sorted(p.name for p in tiny_models.out_dir.iterdir()) == [MANIFEST_NAME, "policy", "reward"]
    for folder in (tiny_models.policy_dir, tiny_models.reward_dir):
        names = {p.name for p in folder.iterdir()}
        assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
        assert not any(name.endswith(".bin") for name in names)
    assert (tiny_models.policy_dir / "generation_config.json").is_file()

    manifest = json.loads(tiny_models.manifest_path.read_text())
    assert manifest["size"] == "nano" and manifest["seed"] == 0 and manifest["vocab_size"] == 2048
    assert manifest["policy"]["parameters"] == tiny_models.policy_parameters
    shipped = tiny_corpus_files()
    assert [c["name"] for c in manifest["corpus"]] == [p.name for p in shipped]
    assert manifest["corpus"][0]["sha256"] == hashlib.sha256(shipped[0].read_bytes()).hexdigest()
    # Self-describing without leaking where it was built.
    text = tiny_models.manifest_path.read_text()
    assert str(tiny_models.out_dir) not in text and str(shipped[0].parent) not in text


def test_policy_loads_with_plain_transformers_and_runs(tiny_models, tiny_tokenizer):
    model = AutoModelForCausalLM.from_pretrained(tiny_models.policy_dir)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert count_parameters(model) == tiny_models.policy_parameters
    generation = model.generation_config
    assert (generation.eos_token_id, generation.pad_token_id) == (1, 2)
    batch = tiny_tokenizer(["Lily found a needle.", "Hi"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits  # (B, T, V)
    assert logits.shape == (2, batch["input_ids"].shape[1], len(tiny_tokenizer))
    assert torch.isfinite(logits).all()


def test_reward_scores_a_padded_batch_like_single_examples(tiny_models, tiny_tokenizer):
    model = AutoModelForSequenceClassification.from_pretrained(tiny_models.reward_dir)
    assert model.config.num_labels == 1 and model.config.pad_token_id == tiny_tokenizer.pad_token_id
    texts = ["A short one.", "A much longer story about a little car named Beep who loved to go fast."]
    with torch.no_grad():
        singles = [model(**tiny_tokenizer(text, return_tensors="pt")).logits[0, 0] for text in texts]
        batch = tiny_tokenizer(texts, padding=True, return_tensors="pt")
        assert (batch["input_ids"][0] == tiny_tokenizer.pad_token_id).any()  # really padded
        batched = model(**batch).logits[:, 0]  # (B,)
    torch.testing.assert_close(batched, torch.stack(singles), atol=1e-5, rtol=0)


def test_reward_backbone_starts_from_the_policy(tiny_models):
    policy = load_file(tiny_models.policy_dir / "model.safetensors")
    reward = load_file(tiny_models.reward_dir / "model.safetensors")
    backbone = [key for key in reward if key.startswith("model.")]
    assert backbone and all(torch.equal(reward[key], policy[key]) for key in backbone)
    assert reward["score.weight"].shape == (1, 128)


def _digests(out_dir):
    files = ["policy/model.safetensors", "reward/model.safetensors", "policy/tokenizer.json", MANIFEST_NAME]
    return {name: hashlib.sha256((out_dir / name).read_bytes()).hexdigest() for name in files}


def test_same_seed_gives_identical_files_and_leaves_the_rng_alone(tiny_models, tmp_path):
    state = torch.get_rng_state()
    again = build_tiny_models(tmp_path / "again", size="nano", seed=0)
    assert torch.equal(torch.get_rng_state(), state)
    assert _digests(again.out_dir) == _digests(tiny_models.out_dir)

    other = build_tiny_models(tmp_path / "other", size="nano", seed=1)
    first, second = _digests(tiny_models.out_dir), _digests(other.out_dir)
    assert first["policy/tokenizer.json"] == second["policy/tokenizer.json"]  # the tokenizer has no seed
    assert first["policy/model.safetensors"] != second["policy/model.safetensors"]


def test_custom_corpus_and_vocab_size(tmp_path):
    corpus = tmp_path / "arabic.txt"
    corpus.write_text("القطة الصغيرة تلعب في الحديقة.\n" * 50 + "The cat plays.\n" * 50, encoding="utf-8")
    built = build_tiny_models(tmp_path / "out", corpus=[corpus], vocab_size=300, max_position_embeddings=128)
    assert built.vocab_size <= 300
    manifest = json.loads(built.manifest_path.read_text())
    assert [c["name"] for c in manifest["corpus"]] == ["arabic.txt"]
    config = json.loads((built.policy_dir / "config.json").read_text())
    assert config["vocab_size"] == built.vocab_size and config["max_position_embeddings"] == 128


def test_missing_or_binary_corpus_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="corpus file not found"):
        build_tiny_models(tmp_path / "out", corpus=[tmp_path / "nope.txt"])
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00 not utf-8")
    with pytest.raises(DataError, match="not UTF-8"):
        build_tiny_models(tmp_path / "out", corpus=[binary])
    assert not (tmp_path / "out").exists()


def test_a_crash_mid_build_leaves_nothing_behind(tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tiny_module, "atomic_write_json", crash)  # the last write inside the temp folder
    with pytest.raises(RuntimeError, match="disk full"):
        build_tiny_models(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite_and_must_be_a_previous_build(tiny_models, tmp_path):
    with pytest.raises(AlignlabError, match="already exists and is not empty; pass --force"):
        build_tiny_models(tiny_models.out_dir)

    user_folder = tmp_path / "mine"
    user_folder.mkdir()
    (user_folder / "notes.md").write_text("keep me")
    with pytest.raises(AlignlabError, match=r"did not write \(notes.md\)"):
        build_tiny_models(user_folder, overwrite=True)
    assert (user_folder / "notes.md").read_text() == "keep me"

    previous = build_tiny_models(tmp_path / "out", seed=0)
    replaced = build_tiny_models(tmp_path / "out", seed=1, overwrite=True)
    assert json.loads(replaced.manifest_path.read_text())["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "out"]  # no temp folders left
    assert previous.policy_dir == replaced.policy_dir
