"""Multi-attribute regression, ensembles and LoRA train, save, load and evaluate; config rules."""

from __future__ import annotations

import json

import pytest
import torch

from alignlab.algorithms.rm import MEMBER_KINDS, RM_TYPES, train
from alignlab.config.rm import RMConfig
from alignlab.models.reward import CARD_NAME, RewardModel

from .conftest import make_config

QUIET = {"echo": lambda _line: None}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_multi_attribute_trains_and_reports_per_attribute_errors(tiny, tmp_path):
    from transformers import AutoModelForSequenceClassification

    config = make_config(tmp_path, tiny.policy_dir,
                         data={"path": "synthetic:ratings?n=60&attributes=helpfulness,correctness",
                               "format": "ratings"},
                         train={"max_steps": 8, "batch_size": 4},
                         rm={"type": "multi_attribute", "attributes": ["helpfulness", "correctness"],
                             "attribute_weights": {"helpfulness": 0.75, "correctness": 0.25},
                             "regression_bt_coefficient": 0.5})
    result = train(config, **QUIET)
    card = json.loads((result.model_dir / CARD_NAME).read_text())
    assert card["attributes"] == ["helpfulness", "correctness"] and card["scale"] == [0, 4]
    assert card["attribute_weights"] == {"helpfulness": 0.75, "correctness": 0.25}
    assert {"helpfulness_mae", "correctness_spearman", "accuracy"} <= set(result.summary["eval"])
    plain = AutoModelForSequenceClassification.from_pretrained(result.model_dir)
    assert plain.config.id2label == {0: "helpfulness", 1: "correctness"}
    scores = RewardModel.load(result.model_dir).score(["p"], ["Tom saw the dog."])
    assert scores.attributes.shape == (1, 2) and scores.attribute_names == ("helpfulness", "correctness")
    raw = plain(**plain_inputs(result.model_dir, "p", "Tom saw the dog.")).logits[0].detach()
    assert scores.reward[0] == pytest.approx(float(raw @ torch.tensor([0.75, 0.25])), abs=1e-4)
    assert scores.attributes[0] == pytest.approx((raw.numpy() + 1) / 2 * 4, abs=1e-4)  # back to the 0..4 scale


def plain_inputs(model_dir, prompt, response):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
    return tokenizer(tokenizer.apply_chat_template(messages, tokenize=False), add_special_tokens=False,
                     return_tensors="pt")


def test_ensemble_members_differ_and_spread_is_reported(tiny, tmp_path):
    config = make_config(tmp_path, tiny.policy_dir, train={"max_steps": 6},
                         rm={"type": "ensemble", "ensemble_size": 2, "ensemble_bootstrap": True})
    result = train(config, **QUIET)
    card = json.loads((result.model_dir / CARD_NAME).read_text())
    assert card["members"] == ["members/0", "members/1"] and card["kind"] == "ensemble"
    rm = RewardModel.load(result.model_dir)
    scores = rm.score(["p", "q"], ["Tom saw the dog.", "Mia had the cake please."])
    assert scores.members.shape == (2, 2) and (scores.std > 0).all()
    assert scores.reward == pytest.approx(scores.members.mean(axis=0))
    assert "uncertainty" in json.loads((result.model_dir / "eval.json").read_text())
    assert all((result.run_dir / "members" / f"member_{i}" / "summary.json").is_file() for i in range(2))


def test_lora_merges_into_a_plain_model(tiny, tmp_path):
    config = make_config(tmp_path, tiny.policy_dir, train={"max_steps": 4},
                         rm={"lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}})
    result = train(config, **QUIET)
    from safetensors.torch import load_file

    names = {p.name for p in result.model_dir.iterdir()}
    assert "adapter_config.json" not in names and "model.safetensors" in names
    trained = load_file(result.model_dir / "model.safetensors")
    base = load_file(tiny.policy_dir / "model.safetensors")
    layer = "model.layers.0.self_attn"
    assert not trained[f"{layer}.q_proj.weight"].equal(base[f"{layer}.q_proj.weight"])  # adapter merged in
    assert trained[f"{layer}.k_proj.weight"].equal(base[f"{layer}.k_proj.weight"])  # not a LoRA target
    assert not any("lora" in key for key in trained)


def test_registries_and_config_rules():
    assert RM_TYPES.names() == ["bradley_terry", "ensemble", "multi_attribute"]
    assert MEMBER_KINDS.names() == ["bradley_terry", "multi_attribute"]
    base = {"model": {"name_or_path": "m"}, "data": {"path": "d.jsonl"}}
    with pytest.raises(ValueError, match="multi_attribute regression trains on ratings"):
        RMConfig.model_validate({**base, "rm": {"type": "multi_attribute", "attributes": ["helpfulness"]}})
    with pytest.raises(ValueError, match="attribute_weights names \\['verbosity'\\]"):
        RMConfig.model_validate({**base, "rm": {"attributes": ["helpfulness"], "attribute_weights": {"verbosity": 1}}})
    with pytest.raises(ValueError, match="low < high"):
        RMConfig.model_validate({**base, "data": {"path": "d", "scale": [4, 0]}})
    config = RMConfig.model_validate({**base, "rm": {"attributes": ["a", "b"]}})
    assert config.rm.weights() == {"a": 0.5, "b": 0.5}
    assert RMConfig.model_validate(base).rm.weights() == {"helpfulness": 1.0}
