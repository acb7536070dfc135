"""`alignlab launch` checks, before any process starts: each bad launcher config is one line naming the file
and the fix; counts come from flags, then the environment, then the file; the command is accelerate's."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.errors import ConfigError
from alignlab.launch.plan import LaunchError, Machine, check, make_plan, resolve_config_file
from tests.conftest import ROOT

SHIPPED = ROOT / "configs" / "accelerate"
CPU = Machine(cuda_devices=0, bf16=False, deepspeed=True)
ONE_GPU = Machine(cuda_devices=1, bf16=True, deepspeed=True)
EIGHT_GPUS = Machine(cuda_devices=8, bf16=True, deepspeed=True)
DPO = ["train", "dpo", "--config", str(ROOT / "configs" / "dpo" / "tiny.yaml")]
RM = ["rm", "train", "--config", str(ROOT / "configs" / "rm" / "tiny_bt.yaml")]


def plan(name: str, command=DPO, env=None, **flags):
    return make_plan(SHIPPED / f"{name}.yaml", command, env=env or {}, **flags)


def error(name: str, machine: Machine, command=DPO, env=None, **flags) -> str:
    with pytest.raises(LaunchError) as caught:
        check(plan(name, command, env, **flags), machine, env={})
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_ddp_cpu_plan_runs_two_cpu_processes_through_accelerate_with_a_free_port():
    checked = check(plan("ddp_cpu"), CPU, env={})
    argv = checked.argv("python")
    assert argv[:3] == ["python", "-m", "alignlab.launch.runner"]  # accelerate launch, one-line failures
    assert argv[argv.index("--num_processes") + 1] == "2"
    assert argv[argv.index("--mixed_precision") + 1] == "no"
    assert int(argv[argv.index("--main_process_port") + 1]) > 0
    assert argv[-len(DPO) - 2:] == ["-m", "alignlab.launch.entry", *DPO]


def test_counts_come_from_flags_then_environment_then_file():
    env = {"WORLD_SIZE": "16", "NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "6000"}
    from_env = plan("ddp", env=env)
    assert (from_env.num_processes, from_env.num_machines, from_env.machine_rank) == (16, 2, 1)
    assert (from_env.main_process_ip, from_env.main_process_port) == ("10.0.0.1", 6000)
    flags = plan("ddp", env=env, num_processes=8, num_machines=1, machine_rank=0)
    assert (flags.num_processes, flags.num_machines, flags.machine_rank) == (8, 1, 0)
    assert plan("ddp").num_processes == 2  # the file
    checked = check(from_env, EIGHT_GPUS, env={})
    argv = checked.argv("python")
    assert argv[argv.index("--machine_rank") + 1] == "1" and "10.0.0.1" in argv


def test_more_processes_than_gpus():
    assert "3 processes on this machine but 1 CUDA GPU" in error("ddp", ONE_GPU, num_processes=3)
    assert "--num-processes 2" in error("ddp", ONE_GPU, num_processes=4, num_machines=2, main_process_ip="h")


def test_gpu_configs_on_a_cpu_machine_say_what_to_use_instead():
    assert "ddp_cpu.yaml" in error("ddp", CPU, mixed_precision="no")
    assert "mixed_precision bf16 needs a GPU" in error("zero2", CPU)
    assert "FSDP runs on CUDA GPUs only" in error("fsdp", CPU, mixed_precision="no")
    assert "offloading to CPU memory needs a GPU" in error("zero3_offload", CPU, mixed_precision="no")


def test_deepspeed_not_installed():
    message = error("zero2", Machine(cuda_devices=2, bf16=True, deepspeed=False))
    assert "deepspeed is not installed" in message and "pip install" in message


def test_zero3_refuses_what_it_cannot_support():
    assert "rm train under DeepSpeed ZeRO-3" in error("zero3", EIGHT_GPUS, command=RM)
    assert "rm train under FSDP" in error("fsdp", EIGHT_GPUS, command=RM)
    sft = ["train", "sft", "--config", str(ROOT / "configs" / "sft" / "tiny.yaml")]
    assert "untested for the lifecycle backends" in error("fsdp", EIGHT_GPUS, command=sft)
    grpo = ["train", "grpo", "--config", str(ROOT / "configs" / "grpo" / "tiny.yaml")]
    assert "grpo runs its own accelerate loop" in error("zero2", EIGHT_GPUS, command=grpo)
    check(plan("ddp", command=grpo), EIGHT_GPUS, env={})
    hooks = [*DPO, "eval.hooks=[]"]
    check(plan("zero3", command=hooks), EIGHT_GPUS, env={})  # no hooks: fine
    check(plan("zero2", command=RM), EIGHT_GPUS, env={})  # rm under ZeRO-2: fine


def test_lifecycle_trainers_run_under_ddp_and_zero3_but_a_lora_merge_needs_unsharded_weights():
    for kind in ("sft", "pretrain", "cpt"):
        command = ["train", kind, "--config", str(ROOT / "configs" / kind / "tiny.yaml")]
        check(plan("ddp_cpu", command=command), CPU, env={})
        check(plan("zero3", command=command), EIGHT_GPUS, env={})  # the final model is gathered from the shards
    lora = ["train", "cpt", "--config", str(ROOT / "configs" / "cpt" / "qwen_0.5b_lora.yaml")]
    message = error("zero3", EIGHT_GPUS, command=lora)
    assert "train cpt with lora under DeepSpeed ZeRO-3" in message and "zero2.yaml" in message
    check(plan("zero2", command=lora), EIGHT_GPUS, env={})


def test_kto_runs_on_one_and_on_several_processes():
    kto = ["train", "kto", "--config", str(ROOT / "configs" / "kto" / "tiny.yaml")]
    check(plan("ddp_cpu", command=kto), CPU, env={})  # 2 processes (its equivalence test: test_multiprocess.py)
    check(plan("ddp_cpu", command=kto, num_processes=1), CPU, env={})
    check(plan("ddp", command=kto), EIGHT_GPUS, env={})


def test_multi_machine_needs_the_main_address_and_a_valid_rank():
    assert "--main-process-ip" in error("ddp", EIGHT_GPUS, num_processes=16, num_machines=2)
    assert "machine_rank 2 with num_machines 2" in error("ddp", EIGHT_GPUS, num_processes=16, num_machines=2,
                                                           machine_rank=2, main_process_ip="h")
    assert "not a multiple of num_machines" in error("ddp", EIGHT_GPUS, num_processes=9, num_machines=2,
                                                     main_process_ip="h")


def test_command_must_be_a_training_command_and_its_config_is_checked_first(tmp_path):
    assert "not a training command" in error("ddp_cpu", CPU, command=["data", "audit", "x"])
    assert "needs a training command" in error("ddp_cpu", CPU, command=[])
    with pytest.raises(ConfigError, match="train.lrr"):
        plan("ddp_cpu", command=[*DPO, "train.lrr=1"])
    with pytest.raises(LaunchError, match="no such file"):
        plan("ddp_cpu", command=["train", "dpo", "--config", str(tmp_path / "missing.yaml")])


def test_inside_a_launched_process_is_refused():
    with pytest.raises(LaunchError, match="LOCAL_RANK"):
        check(plan("ddp_cpu"), CPU, env={"LOCAL_RANK": "0"})


def test_config_file_resolution(tmp_path):
    assert resolve_config_file(None, CPU).name == "ddp_cpu.yaml"
    assert resolve_config_file(None, ONE_GPU).name == "ddp.yaml"
    assert resolve_config_file(Path("zero3"), CPU) == ROOT / "configs" / "accelerate" / "zero3.yaml"
    with pytest.raises(LaunchError, match="no such file; shipped launcher configs: ddp, ddp_cpu, fsdp"):
        resolve_config_file(tmp_path / "nope.yaml", CPU)


def test_a_typo_in_a_launcher_config_names_the_key_and_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("distributed_type: DEEPSPEED\ndeepspeed_config:\n  zero_stag: 3\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:3: deepspeed_config.zero_stag"):
        make_plan(bad, DPO, env={})
    multi_cpu = tmp_path / "multi_cpu.yaml"
    multi_cpu.write_text("distributed_type: MULTI_CPU\nuse_cpu: true\nnum_processes: 2\n")
    with pytest.raises(LaunchError, match="MULTI_CPU starts one process"):
        check(make_plan(multi_cpu, DPO, env={}), CPU, env={})
