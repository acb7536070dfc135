"""`alignlab models`: the real CLI builds tiny models that plain transformers loads in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

LOAD_WITH_PLAIN_TRANSFORMERS = """
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
out = sys.argv[1]
tokenizer = AutoTokenizer.from_pretrained(out + "/policy")
policy = AutoModelForCausalLM.from_pretrained(out + "/policy")
reward = AutoModelForSequenceClassification.from_pretrained(out + "/reward")
reward_tokenizer = AutoTokenizer.from_pretrained(out + "/reward")
batch = tokenizer(["Once upon a time", "Hi"], padding=True, return_tensors="pt")
with torch.no_grad():
    logits = policy(**batch).logits
    scores = reward(**batch).logits
print(json.dumps({
    "policy": type(policy).__name__, "reward": type(reward).__name__,
    "logits": list(logits.shape), "scores": list(scores.shape),
    "same_tokenizer": tokenizer.get_vocab() == reward_tokenizer.get_vocab(),
    "chat": tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                          add_generation_prompt=True),
}))
"""


def _assert_one_line_error(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_tiny_builds_models_that_load_in_a_fresh_process(cli, tmp_path):
    out = tmp_path / "tiny"
    result = cli("models", "tiny", str(out), "--size", "nano", "--seed", "0")
    assert result.returncode == 0, result.stderr
    assert f"policy: {out / 'policy'} (LlamaForCausalLM" in result.stdout
    assert f"reward: {out / 'reward'} (LlamaForSequenceClassification" in result.stdout
    assert "Traceback" not in result.stderr

    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_WITH_PLAIN_TRANSFORMERS, str(out)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    assert loaded.returncode == 0, loaded.stderr
    report = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert report["policy"] == "LlamaForCausalLM" and report["reward"] == "LlamaForSequenceClassification"
    assert report["logits"][0] == 2 and report["logits"][2] == 2048
    assert report["scores"] == [2, 1]
    assert report["same_tokenizer"]
    assert report["chat"] == "<|bos|><|user|>\nHi<|end|><|assistant|>\n"

    info = cli("models", "info", str(out))  # the output root describes both models
    assert info.returncode == 0, info.stderr
    assert "LlamaForCausalLM" in info.stdout and "LlamaForSequenceClassification" in info.stdout
    assert "918,144" in info.stdout and "{% generation %}" in info.stdout

    refused = cli("models", "tiny", str(out))
    assert "already exists and is not empty; pass --force" in _assert_one_line_error(refused)


def test_unknown_size_is_one_line_naming_the_allowed_values(cli, tmp_path):
    out = tmp_path / "tiny"
    line = _assert_one_line_error(cli("models", "tiny", str(out), "--size", "huge"))
    assert "--size 'huge'" in line and all(size in line for size in ("nano", "micro", "small", "base"))
    assert not out.exists()


def test_existing_folder_is_not_touched_without_force(cli, tmp_path):
    (tmp_path / "notes.md").write_text("keep me")
    line = _assert_one_line_error(cli("models", "tiny", str(tmp_path)))
    assert str(tmp_path) in line and "--force" in line
    line = _assert_one_line_error(cli("models", "tiny", str(tmp_path), "--force"))
    assert "did not write (notes.md)" in line
    assert [p.name for p in tmp_path.iterdir()] == ["notes.md"]


def test_info_on_a_missing_path_is_one_line(cli, tmp_path):
    line = _assert_one_line_error(cli("models", "info", str(tmp_path / "missing")))
    assert line == f"error: no such folder: {tmp_path / 'missing'} (and it is not a hub id); pass a local path " \
        "or build one with `alignlab models tiny OUT`"
