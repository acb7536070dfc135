"""Training through the API: it learns, scores the same at inference as in training, loads with plain
transformers, resumes, and stops on a NaN loss naming the step."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from alignlab.algorithms.rm import train
from alignlab.algorithms.rm_data import pairwise_rows, split_by_prompt
from alignlab.backends.train.hf import TrainingDiverged
from alignlab.config.base import TrainSection
from alignlab.data.synthetic import make_pairwise
from alignlab.models.reward import CARD_NAME, InputFormat, RewardModel
from alignlab.runs import Run

from .conftest import make_config


def test_learns_the_hidden_rule_and_writes_a_complete_folder(trained_bt):
    config, result = trained_bt
    assert result.summary["eval"]["accuracy"] >= 0.75
    assert result.summary() == result.summary == json.loads((result.run_dir / "summary.json").read_text())
    names = {p.name for p in result.model_dir.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", CARD_NAME, "README.md", "eval.json"} <= names
    card = json.loads((result.model_dir / CARD_NAME).read_text())
    assert card["kind"] == "bradley_terry" and card["input"]["style"] == "chat"
    assert len(card["training_data"]["sha256"]) == 64
    readme = (result.model_dir / "README.md").read_text()
    assert "accuracy (95% bootstrap CI)" in readme and f"{result.summary['eval']['accuracy']:.3f}" in readme
    assert (result.run_dir / "summary.json").is_file()
    assert result.summary["train"]["steps"] == 30 and result.summary["train"]["peak_rss_mb"] > 0


def _plain_transformers_rewards(model_dir, records, side):
    """What a user with only transformers gets, following the model card's recipe."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    rewards = []
    for record in records:
        text = tokenizer.apply_chat_template(record["prompt"] + record[side], tokenize=False)
        inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt")
        with torch.inference_mode():
            rewards.append(model(**inputs).logits[0, 0].item())
    return torch.tensor(rewards)


def test_plain_transformers_scores_match_and_reproduce_accuracy(trained_bt):
    config, result = trained_bt
    records = make_pairwise(240, seed=0, chat=True)
    _, held_out = split_by_prompt(records, 0.2, seed=0)
    chosen = _plain_transformers_rewards(result.model_dir, held_out, "chosen")
    rejected = _plain_transformers_rewards(result.model_dir, held_out, "rejected")
    ours = RewardModel.load(result.model_dir).score([r["prompt"] for r in held_out], [r["chosen"] for r in held_out])
    assert torch.allclose(chosen, torch.tensor(ours.reward, dtype=torch.float), atol=1e-4)
    accuracy = (chosen > rejected).float().mean().item()
    assert accuracy == pytest.approx(result.summary["eval"]["accuracy"], abs=1e-9)


def _sides(batch, pair):
    """(chosen ids, rejected ids) of one pair of a shared-prompt batch (a row may hold several pairs)."""
    row = int(batch["chosen_row"][pair])
    ids, positions = batch["input_ids"][row], batch["position_ids"][row]
    chosen_end, rejected_end = int(batch["chosen_end"][pair]), int(batch["rejected_end"][pair])
    start = chosen_end - int(positions[chosen_end])  # the chosen side's positions run 0, 1, ... from the start
    prefix = int(positions[chosen_end + 1])  # the rejected side restarts after the prefix
    chosen = ids[start: chosen_end + 1].tolist()
    return chosen, chosen[:prefix] + ids[chosen_end + 1: rejected_end + 1].tolist()


@pytest.mark.parametrize("batching", ["shared_prompt", "padded"])
def test_a_response_scores_at_inference_what_it_scored_in_training(tiny, tokenizer, tmp_path, batching):
    """The trainer's own batch (its dataloader, collator and loss path) against `RewardModel.score` on the
    raw records after a save and reload: same token ids (eos last) and the same rewards."""
    from alignlab.backends.train.reward import pairwise_trainer
    from alignlab.models.reward import load_for_training

    torch.set_num_threads(1)
    pairs = make_pairwise(8, seed=5, chat=True)
    fmt = InputFormat.for_tokenizer(tokenizer, "auto", 64)
    rows = pairwise_rows(pairs, tokenizer, fmt, use_margin=False, example_weight="weight")
    model = load_for_training(str(tiny.policy_dir), num_labels=1, seed=0, pad_token_id=tokenizer.pad_token_id)
    run = Run(dir=tmp_path / "run", config={})
    trainer = pairwise_trainer(model, tokenizer, rows, run=run, seed=0, echo=lambda _line: None, batching=batching,
                               train=TrainSection(lr=1e-3, batch_size=8, max_steps=2, save_steps=100))
    trainer.train()
    trainer.model.eval()
    batch = next(iter(trainer.get_train_dataloader()))
    with torch.no_grad():
        _, outputs = trainer.compute_loss(trainer.model, batch, return_outputs=True)
    training_rewards = outputs.logits.squeeze(-1)  # (2B,): chosen rewards, then rejected rewards

    out = tmp_path / "model"
    trainer.model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / CARD_NAME).write_text(json.dumps({"kind": "bradley_terry", "input": fmt.to_dict()}))
    rm = RewardModel.load(out)
    by_ids = {}
    for side in ("chosen", "rejected"):
        responses = [p[side] for p in pairs]
        scores = rm.score([p["prompt"] for p in pairs], responses).reward
        for ids, reward in zip(rm.encode([p["prompt"] for p in pairs], responses), scores, strict=True):
            assert ids[-1] == tokenizer.eos_token_id
            by_ids[tuple(ids)] = reward
    if batching == "padded":
        sequences = [tuple(row[mask.bool()].tolist()) for row, mask in zip(batch["input_ids"],
                                                                          batch["attention_mask"], strict=True)]
    else:
        sides = [_sides(batch, pair) for pair in range(len(pairs))]
        sequences = [tuple(c) for c, _ in sides] + [tuple(r) for _, r in sides]
    assert len(sequences) == len(training_rewards) == 2 * len(pairs)
    for ids, reward in zip(sequences, training_rewards, strict=True):
        assert ids in by_ids, "a training input is not what scoring encodes"
        assert by_ids[ids] == pytest.approx(reward.item(), abs=1e-5)


def _losses(run_dir) -> dict[int, float]:
    """step -> training loss, from metrics.jsonl (the end-of-training summary line has no `loss`)."""
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [m["step"] for m in lines if "loss" in m]
    assert len(steps) == len(set(steps)), f"repeated steps: {steps}"
    return {m["step"]: m["loss"] for m in lines if "loss" in m}


def test_resume_continues_from_the_last_checkpoint(tiny, tmp_path):
    config = make_config(tmp_path, tiny.policy_dir, train={"max_steps": 6, "save_steps": 3, "logging_steps": 1},
                         data={"path": "synthetic:keyword?n=80&seed=1&chat=1"})
    first = train(config, echo=lambda _line: None)
    run_dir = first.run_dir
    losses = _losses(run_dir)
    # Simulate a crash after step 3: the final checkpoint, the summary and the model are not there yet.
    shutil.rmtree(run_dir / "checkpoints" / "step_6")
    (run_dir / "summary.json").unlink()
    shutil.rmtree(first.model_dir)
    lines: list[str] = []
    second = train(config, echo=lines.append)
    assert any("resuming" in line for line in lines)
    resumed = _losses(run_dir)
    assert list(resumed) == [1, 2, 3, 4, 5, 6]  # no repeated or missing steps
    # Same data order, RNG and optimizer state after the resume: the same losses as without the crash.
    assert [resumed[s] for s in (4, 5, 6)] == pytest.approx([losses[s] for s in (4, 5, 6)], rel=1e-4)
    assert second.summary["eval"]["pairs"] == first.summary["eval"]["pairs"]
    again: list[str] = []
    train(config, echo=again.append)  # finished: returned as it is
    assert any("already trained" in line for line in again)


def test_nan_loss_stops_with_the_step(tiny, tokenizer, tmp_path, monkeypatch):
    from alignlab.backends.train import reward as backend
    from alignlab.models.reward import load_for_training

    torch.set_num_threads(1)
    real = backend.bradley_terry_loss
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        loss = real(*args, **kwargs)
        return loss * float("nan") if calls["n"] == 3 else loss

    monkeypatch.setattr(backend, "bradley_terry_loss", poisoned)
    pairs = make_pairwise(16, seed=2, chat=True)
    fmt = InputFormat.for_tokenizer(tokenizer, "auto", 64)
    rows = pairwise_rows(pairs, tokenizer, fmt, use_margin=False, example_weight="none")
    model = load_for_training(str(tiny.policy_dir), num_labels=1, seed=0, pad_token_id=tokenizer.pad_token_id)
    trainer = backend.pairwise_trainer(model, tokenizer, rows, run=Run(dir=tmp_path, config={}), seed=0,
                                       train=TrainSection(batch_size=4, max_steps=5), echo=lambda _line: None)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 3 \("):
        trainer.train()
