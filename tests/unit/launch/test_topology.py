"""A process's place in a launched run, read from the launcher's environment, and rank-aware run directories."""

from __future__ import annotations

import pytest

from alignlab.launch.topology import Topology, current, forwards_are_collective, main_process_first
from alignlab.runs import open_run

LAUNCH_VARS = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "TORCHELASTIC_RUN_ID",
               "ACCELERATE_USE_DEEPSPEED", "ACCELERATE_DEEPSPEED_ZERO_STAGE", "ACCELERATE_USE_FSDP",
               "ACCELERATE_MIXED_PRECISION")


@pytest.fixture
def env(monkeypatch):
    for name in LAUNCH_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_single_process(env):
    assert current() == Topology()
    assert current().as_dict()["num_machines"] == 1 and not forwards_are_collective()


def test_accelerate_deepspeed_zero3_on_two_machines(env):
    for name, value in {"WORLD_SIZE": "16", "RANK": "9", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "8",
                        "TORCHELASTIC_RUN_ID": "x", "ACCELERATE_MIXED_PRECISION": "bf16",
                        "ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_ZERO_STAGE": "3"}.items():
        env.setenv(name, value)
    topology = current()
    assert (topology.launcher, topology.distributed, topology.deepspeed_stage) == ("accelerate", "deepspeed", 3)
    assert (topology.rank, topology.local_rank, topology.num_machines, topology.is_main) == (9, 1, 2, False)
    assert forwards_are_collective()


def test_torchrun_ddp_and_fsdp(env):
    env.setenv("WORLD_SIZE", "2")
    env.setenv("TORCHELASTIC_RUN_ID", "x")
    assert (current().launcher, current().distributed) == ("torchrun", "ddp")
    env.setenv("ACCELERATE_USE_FSDP", "true")
    assert current().distributed == "fsdp" and forwards_are_collective()


def test_main_process_first_is_a_plain_block_in_one_process(env):
    with main_process_first() as main:
        assert main


def test_ranks_other_than_zero_open_the_run_as_readers(env, tmp_path):
    """Rank 1 (with WORLD_SIZE 1 the barrier is a no-op) writes nothing: rank 0 owns the folder."""
    written = open_run({"a": 1}, tmp_path, "run", seed=0)
    written.log(1, loss=0.5)
    env.setenv("RANK", "1")
    reader = open_run({"a": 1}, tmp_path, "run", seed=0)
    assert not reader.writer and reader.dir == written.dir
    reader.log(2, loss=0.4)
    reader.finish({"x": 1})
    assert [m["step"] for m in written.metrics()] == [1]
    assert not written.summary_path.exists()
    fresh = open_run({"a": 1}, tmp_path, "other", seed=0)
    assert not fresh.dir.exists()  # a reader never creates the folder
