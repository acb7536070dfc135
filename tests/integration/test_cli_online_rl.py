"""`alignlab train ppo|grpo|rloo` as a user runs it: the shipped tiny configs (PPO shortened) raise the
held-out rule reward from a tiny policy within a CPU minute each, KL inside its budget; bad input is one line
on stderr with exit code 2 and nothing written."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def _args(tmp_path, kind: str, *extra: str) -> list[str]:
    return ["train", kind, "--config", f"configs/{kind}/tiny.yaml", f"run.output_dir={tmp_path / 'runs'}",
            f"model.name_or_path={tmp_path / 'nano-online'}", *extra]


# GRPO makes one optimiser step per round (PPO four): its greedy held-out answer moves between rounds 40 and 60
# (benchmarks/results/online_rl_learning.md), so it runs the config's full 60 rounds
@pytest.mark.parametrize(("kind", "steps"), [("grpo", "60"), ("ppo", "24")])
def test_tiny_config_raises_the_held_out_rule_reward(tmp_path_factory, cli, kind, steps):
    tmp_path = tmp_path_factory.getbasetemp() / "online-cli"  # one tiny policy for both methods
    result = cli(*_args(tmp_path, kind, f"train.steps={steps}", "train.eval_steps=100", "train.save_steps=12"))
    assert result.returncode == 0, result.stderr
    assert "held-out reward:" in result.stdout
    summary = json.loads((tmp_path / "runs" / f"{kind}_tiny" / "summary.json").read_text())
    before, after = summary["eval_before"]["eval/reward"], summary["eval"]["eval/reward"]
    assert after > before + 0.25, (before, after)
    assert summary["kl"]["within_budget"] is True
    assert (tmp_path / "runs" / f"{kind}_tiny" / "samples" / "step_10.jsonl").is_file()


def test_one_generation_per_prompt_is_one_line_and_writes_nothing(tmp_path, cli):
    result = cli(*_args(tmp_path, "grpo", "grpo.num_generations=1"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "grpo.num_generations" in lines[0] and "at least 2" in lines[0]
    assert not (tmp_path / "runs").exists()
