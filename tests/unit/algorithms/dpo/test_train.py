"""DPO/KTO training in-process on a tiny SFT'd nano policy: learning, LoRA, IPO, KTO, weights, the cache."""

from __future__ import annotations

import json
import math

import pytest

from alignlab.algorithms.dpo import train_dpo
from alignlab.algorithms.kto import train_kto
from tests.unit.algorithms.dpo.conftest import dpo_config, kto_config

pytestmark = pytest.mark.slow


def _metrics(run) -> list[dict]:
    return [json.loads(line) for line in run.metrics_path.read_text().splitlines()]


def test_dpo_learns_the_preference_and_writes_a_complete_run(tmp_path, policy, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # where the measured matmul peak is cached
    seen = []

    def suite(context):  # a checkpoint hook, where evaluation suites attach
        seen.append((context.step, context.final))
        return {"score": float(context.step)}

    run = train_dpo(dpo_config(tmp_path, policy), echo=lambda _: None, hooks=[suite])
    summary = run.summary()
    assert seen == [(12, False), (24, False), (24, True)]
    assert summary["hooks"] == {"hook/suite/score": 24.0}
    assert any(m.get("hook/suite/score") == 12.0 for m in _metrics(run))
    assert summary["eval"]["rewards/accuracies"] >= 0.75
    assert summary["eval"]["rewards/margins"] > 0
    assert summary["reference"]["cache_hit"] is False
    steps = [m for m in _metrics(run) if "loss" in m]
    assert [m["step"] for m in steps] == [4, 8, 12, 16, 20, 24]
    for key in ("rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected", "kl_estimate",
                "offline_log_ratio", "prefix_shared", "flops_per_s", "share_of_peak"):
        assert key in steps[-1]
    assert 0 < steps[-1]["share_of_peak"] < 2
    assert any("eval_rewards/accuracies" in m and m["step"] == 12 for m in _metrics(run))  # at the checkpoint
    assert (run.dir / "model" / "model.safetensors").is_file()
    # A second run with the same data and reference reads the cached reference log-probs.
    again = train_dpo(dpo_config(tmp_path, policy, run={"name": "again"}), echo=lambda _: None)
    assert again.summary()["reference"]["cache_hit"] is True
    assert again.summary()["eval"]["loss"] == pytest.approx(summary["eval"]["loss"], abs=1e-6)


def test_cached_and_live_reference_train_the_same(tmp_path, policy):
    cached = train_dpo(dpo_config(tmp_path, policy, train={"max_steps": 4, "save_steps": 4}), echo=lambda _: None)
    live = train_dpo(dpo_config(tmp_path, policy, run={"name": "live"}, reference={"cache": False},
                                train={"max_steps": 4, "save_steps": 4}), echo=lambda _: None)
    assert live.summary()["reference"]["cache"] is None
    assert live.summary()["eval"]["loss"] == pytest.approx(cached.summary()["eval"]["loss"], abs=1e-4)


def test_in_bf16_the_reference_pass_runs_at_the_trainers_precision(tmp_path, policy):
    """Under bf16 autocast the cold reference pass runs under it too, as TRL's inline reference does: at the first
    step, before any update, the policy's log-probs equal the cached ones (rewards exactly 0, loss log 2; an fp32
    reference pass left a margin of about 1e-3 here). The bf16 cache is a file of its own: an fp32 run misses it."""
    one_step = {"max_steps": 1, "logging_steps": 1, "save_steps": 1}
    runs = {}
    for name, bf16 in (("bf16", True), ("fp32", False)):
        runs[name] = train_dpo(dpo_config(tmp_path, policy, run={"name": name}, train={"bf16": bf16, **one_step}),
                               echo=lambda _: None)
        first = next(m for m in _metrics(runs[name]) if "loss" in m)
        assert (first["rewards/chosen"], first["rewards/rejected"]) == (0.0, 0.0), name
        assert first["loss"] == pytest.approx(math.log(2), abs=1e-6), name
        assert runs[name].summary()["reference"]["cache_hit"] is False, name
    assert runs["bf16"].summary()["reference"]["cache"] != runs["fp32"].summary()["reference"]["cache"]


def test_lora_trains_an_adapter_against_the_adapter_disabled_base(tmp_path, policy):
    config = dpo_config(tmp_path, policy, lora={"r": 8, "alpha": 16}, train={"lr": 5e-3, "max_steps": 16})
    run = train_dpo(config, echo=lambda _: None)
    assert run.summary()["eval"]["rewards/accuracies"] >= 0.75
    assert (run.dir / "model" / "adapter_config.json").is_file()


def test_ipo_learns(tmp_path, policy):
    run = train_dpo(dpo_config(tmp_path, policy, dpo={"loss_type": "ipo", "beta": 0.5}, train={"max_steps": 16}),
                    echo=lambda _: None)
    assert run.summary()["eval"]["rewards/accuracies"] >= 0.75


def test_kto_learns_from_unpaired_data(tmp_path, policy):
    run = train_kto(kto_config(tmp_path, policy), echo=lambda _: None)
    summary = run.summary()
    assert summary["eval"]["rewards/accuracies"] >= 0.75
    assert summary["eval"]["rewards/chosen"] > summary["eval"]["rewards/rejected"]
    assert 0 < summary["data"]["desirable"] < summary["data"]["train_examples"]
    assert "kl" in [m for m in _metrics(run) if "loss" in m][-1]


@pytest.mark.parametrize("loss_type", ["simpo", "orpo"])
def test_reference_free_objectives_train_without_a_reference(tmp_path, policy, loss_type):
    config = dpo_config(tmp_path, policy, dpo={"loss_type": loss_type, "beta": 2.0 if loss_type == "simpo" else 0.1},
                        train={"max_steps": 4, "save_steps": 4})
    summary = train_dpo(config, echo=lambda _: None).summary()
    assert summary["reference"]["cache"] is None and summary["steps"] == 4
    assert "kl_estimate" not in summary["eval"] and summary["eval"]["loss"] > 0
