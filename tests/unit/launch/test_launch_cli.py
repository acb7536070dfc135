"""`alignlab launch` as a user runs it: bad input is one line on stderr and a non-zero exit before any training
process starts; --dry-run prints the accelerate command."""

from __future__ import annotations

import pytest

from alignlab.launch.plan import Machine


def test_missing_config_file_is_one_line(cli, tmp_path):
    result = cli("launch", "--config-file", str(tmp_path / "nope.yaml"), "--", "rm", "train", "--config", "x.yaml")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: --config-file ")
    assert "shipped launcher configs: ddp, ddp_cpu, fsdp, zero2, zero3, zero3_offload" in result.stderr


def test_not_a_training_command_is_one_line(cli):
    result = cli("launch", "--config-file", "ddp_cpu", "--dry-run", "--", "data", "audit", "x")
    assert result.returncode == 2 and "not a training command" in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_prints_the_accelerate_command(cli):
    if Machine.detect().cuda_devices:
        pytest.skip("checks the CPU launcher")
    result = cli("launch", "--config-file", "configs/accelerate/ddp_cpu.yaml", "--dry-run", "--",
                 "train", "dpo", "--config", "configs/dpo/tiny.yaml", "train.lr=1e-4")
    assert result.returncode == 0, result.stderr
    assert "-m alignlab.launch.runner --config_file configs/accelerate/ddp_cpu.yaml" in result.stdout
    assert result.stdout.strip().endswith("-m alignlab.launch.entry train dpo --config configs/dpo/tiny.yaml "
                                          "train.lr=1e-4")
    assert "DDP (CPU), 2 process(es)" in result.stderr


def test_gpu_launcher_without_a_gpu_is_one_line(cli):
    if Machine.detect().cuda_devices:
        pytest.skip("needs a machine without a GPU")
    result = cli("launch", "--config-file", "zero3", "--", "rm", "train", "--config", "configs/rm/tiny_bt.yaml")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "mixed_precision bf16 needs a GPU with bf16" in result.stderr
