"""SFT: rows to conversations, labels only on assistant tokens (checked on real tokenized chats through TRL's
SFTTrainer), held-out assistant loss going down, and bad input."""

from __future__ import annotations

import json

import pytest

from alignlab.algorithms.sft import train_sft
from alignlab.backends.lifecycle.chat_data import read_conversations, to_messages, trl_rows
from alignlab.backends.lifecycle.sft import Prepared, build_trainer
from alignlab.errors import ConfigError, DataError, ModelLoadError
from alignlab.runs import open_run
from tests.unit.backends.lifecycle.conftest import sft_config

pytestmark = pytest.mark.slow

TWO_TURNS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Tell me about a dog."},
    {"role": "assistant", "content": "The dog ran to the park."},
    {"role": "user", "content": "And then?"},
    {"role": "assistant", "content": "It found a red ball."},
]


def _trained_text(tokenizer, example) -> list[str]:
    """The runs of consecutive trained tokens (label != -100), decoded."""
    runs, current = [], []
    for token, label in zip(example["input_ids"], example["labels"], strict=True):
        if label != -100:
            assert label == token
            current.append(token)
        elif current:
            runs.append(tokenizer.decode(current))
            current = []
    if current:
        runs.append(tokenizer.decode(current))
    return runs


def _trainer(tmp_path, pretrained, tokenizer, rows, mode):
    from alignlab.models import load_causal_lm

    config = sft_config(tmp_path, pretrained)
    run = open_run(config, config.run.output_dir, config.run.name)
    return build_trainer(config, run, Prepared(load_causal_lm(pretrained), tokenizer, rows, [], mode))


def test_assistant_only_loss_trains_every_assistant_turn_and_nothing_else(tmp_path, pretrained, tokenizer):
    rows, mode = trl_rows([("x", TWO_TURNS)], tokenizer, "assistant")
    assert mode == "assistant"  # the tiny template marks assistant turns with {% generation %}
    example = _trainer(tmp_path, pretrained, tokenizer, rows, mode).train_dataset[0]
    eos = tokenizer.eos_token
    assert _trained_text(tokenizer, example) == [f"The dog ran to the park.{eos}", f"It found a red ball.{eos}"]
    full = tokenizer.apply_chat_template(TWO_TURNS, tokenize=False)
    assert tokenizer.decode(example["input_ids"]) == full  # the prompt is there, just not trained on


def test_templates_without_generation_marks_train_the_last_turn_as_the_completion(tmp_path, pretrained, tokenizer):
    plain = tokenizer.__class__.from_pretrained(pretrained)
    plain.chat_template = plain.chat_template.replace("{%- generation -%}", "").replace("{%- endgeneration -%}", "")
    rows, mode = trl_rows([("x", TWO_TURNS)], plain, "assistant")
    assert mode == "completion" and rows[0]["completion"] == [TWO_TURNS[-1]]
    example = _trainer(tmp_path, pretrained, plain, rows, mode).train_dataset[0]
    assert _trained_text(plain, example) == [f"It found a red ball.{plain.eos_token}"]
    assert example["labels"][: len(example["labels"]) // 2] == [-100] * (len(example["labels"]) // 2)


def test_loss_on_all_trains_every_token(tmp_path, pretrained, tokenizer):
    rows, mode = trl_rows([("x", TWO_TURNS)], tokenizer, "all")
    example = _trainer(tmp_path, pretrained, tokenizer, rows, mode).train_dataset[0]
    assert example["labels"] == example["input_ids"]


def test_sft_lowers_the_held_out_loss_on_assistant_tokens(tmp_path, pretrained):
    run = train_sft(sft_config(tmp_path, pretrained), echo=lambda _: None)
    summary = run.summary()
    assert summary["loss_on"] == "assistant"
    assert summary["eval"]["loss"] < summary["eval_before"]["loss"] - 0.5
    assert (run.dir / "model" / "model.safetensors").is_file()
    assert (run.dir / "model" / "tokenizer.json").is_file()
    assert summary["model"] == str(run.dir / "model")
    again = []
    assert train_sft(sft_config(tmp_path, pretrained), echo=again.append).summary() == summary
    assert any("already finished" in line for line in again)


def test_row_shapes_and_their_errors(tmp_path):
    assert to_messages({"prompt": "Hi", "completion": "Hello"}, "w") == [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    with pytest.raises(DataError, match=r"f.jsonl:3: messages\[0\].role 'bot' is not one of"):
        to_messages({"messages": [{"role": "bot", "content": "x"}]}, "f.jsonl:3")
    with pytest.raises(DataError, match="no assistant turn with text"):
        to_messages({"messages": [{"role": "user", "content": "x"}]}, "w")
    with pytest.raises(DataError, match=r"needs messages, or prompt and completion \(found keys: text\)"):
        to_messages({"text": "x"}, "w")
    path = tmp_path / "sft.jsonl"
    path.write_text(json.dumps({"messages": TWO_TURNS}) + "\n{not json\n")
    with pytest.raises(DataError, match=r"sft.jsonl:2: "):
        read_conversations(str(path))
    pairs = read_conversations("synthetic:keyword?n=3&seed=0")
    assert len(pairs) == 6 and all(m[-1]["role"] == "assistant" for _w, m in pairs)
    assert len(read_conversations("synthetic:keyword?n=3&seed=0&side=chosen")) == 3


def test_bad_input_fails_before_the_run_directory_exists(tmp_path, pretrained):
    with pytest.raises(DataError, match="file not found"):
        train_sft(sft_config(tmp_path, pretrained, data={"path": str(tmp_path / "missing.jsonl")}))
    with pytest.raises(ModelLoadError):
        train_sft(sft_config(tmp_path, tmp_path / "no_model"))
    no_template = tmp_path / "no_template"
    from alignlab.models import load_causal_lm, load_tokenizer

    tokenizer = load_tokenizer(pretrained)
    tokenizer.chat_template = None
    tokenizer.save_pretrained(no_template)
    load_causal_lm(pretrained).save_pretrained(no_template)
    with pytest.raises(ConfigError, match="has no chat template"):
        train_sft(sft_config(tmp_path, no_template))
    assert not (tmp_path / "runs" / "sft").exists()
