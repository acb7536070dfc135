"""Policy hand-off: the model card, an adapter that loads from any folder, and the hub upload (up to the call)."""

from __future__ import annotations

import json
import os

import pytest

from alignlab.models.card import anchor_adapter, hand_off, model_card
from alignlab.runs import open_run


def _run(tmp_path, data_file, **train):
    config = {"run": {"name": "p"}, "model": {"name_or_path": "base/model", "revision": "abc"},
              "data": {"path": str(data_file), "eval_path": "synthetic:sentiment?n=10"},
              "train": {"lr": 1e-4, "report_to": [], "callbacks": [], **train},
              "dpo": {"beta": 0.1, "loss_type": ["sigmoid"]}}
    run = open_run(config, tmp_path / "runs", "p")
    (run.dir / "model").mkdir()
    run.finish({"method": "dpo", "steps": 12, "eval": {"rewards/accuracies": 0.75, "loss": 0.5}})
    return run


def test_card_names_base_data_hashes_method_eval_and_version(tmp_path):
    import hashlib

    from alignlab import __version__

    data = tmp_path / "prefs.jsonl"
    data.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    run = _run(tmp_path, data)
    hand_off(run, run.dir / "model", echo=lambda _line: None)
    card = (run.dir / "model" / "README.md").read_text()
    assert card.startswith('---\nbase_model: "base/model"\nlibrary_name: transformers')
    assert f"sha256 `{hashlib.sha256(data.read_bytes()).hexdigest()}`" in card
    assert "`synthetic:sentiment?n=10`" in card and "at revision `abc`" in card
    assert "| dpo.beta | `0.1` |" in card and "| train.lr | `0.0001` |" in card
    assert "- rewards/accuracies: 0.75" in card and f"alignlab {__version__} (dpo)" in card


def test_card_without_eval_says_so():
    card = model_card({"model": {"name_or_path": "m"}}, {"steps": 1}, "sft", adapter=True)
    assert "No held-out evaluation was run." in card and "library_name: peft" in card
    assert "AutoPeftModelForCausalLM" in card


def test_adapter_base_path_is_anchored_and_loads_from_another_folder(tmp_path, monkeypatch):
    import torch
    from peft import AutoPeftModelForCausalLM, LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    base = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, num_key_value_heads=2))
    base.save_pretrained("bases/tiny")
    adapter = get_peft_model(LlamaForCausalLM.from_pretrained("bases/tiny"),
                             LoraConfig(r=2, target_modules=["q_proj"]))
    adapter.save_pretrained("out/adapter")
    stored = json.loads((tmp_path / "out/adapter/adapter_config.json").read_text())["base_model_name_or_path"]
    assert stored == "bases/tiny"  # what PEFT writes: relative to the folder training ran in
    assert anchor_adapter(tmp_path / "out/adapter") == str((tmp_path / "bases/tiny").resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    loaded = AutoPeftModelForCausalLM.from_pretrained(str(tmp_path / "out/adapter"))
    assert loaded.peft_config["default"].r == 2


class StandInHubApi:
    """A stand-in for huggingface_hub.HfApi (no hub is reachable here): records the calls it receives."""

    def __init__(self, fail: bool = False):
        self.calls, self.fail = [], fail

    def create_repo(self, **kwargs):
        self.calls.append(("create_repo", kwargs))
        if self.fail:
            raise OSError("401 Client Error: Unauthorized\nlong body")

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))
        return type("Commit", (), {"commit_url": "https://hub.example/commit/1"})()


def test_push_to_hub_uploads_the_folder_with_its_card(tmp_path):
    from alignlab.errors import RunError

    data = tmp_path / "d.jsonl"
    data.write_text("{}\n")
    run = _run(tmp_path, data, push_to_hub=True, hub_model_id="me/tiny-dpo", hub_private_repo=False)
    api, said = StandInHubApi(), []
    hand_off(run, run.dir / "model", echo=said.append, api=api)
    assert api.calls[0] == ("create_repo", {"repo_id": "me/tiny-dpo", "private": False, "exist_ok": True,
                                            "repo_type": "model"})
    upload = api.calls[1][1]
    assert upload["folder_path"] == str(run.dir / "model") and (run.dir / "model" / "README.md").is_file()
    assert said == [f"pushed {run.dir / 'model'} to me/tiny-dpo (https://hub.example/commit/1)"]
    with pytest.raises(RunError, match=r"push to hub 'me/tiny-dpo' failed: 401 Client Error: Unauthorized; the "
                                       r"model is saved in"):
        hand_off(run, run.dir / "model", api=StandInHubApi(fail=True))
